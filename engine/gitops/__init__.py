"""The git and registry edge: everything that runs git or talks to an OCI registry.

Only modules here may start processes (``subprocess``); the layers below stay pure.
"""
