"""The git and registry edge: git CLI, OCI registry tags, image policies, marker setters."""
