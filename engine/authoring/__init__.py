"""Definition authoring: scaffold, check, try out and document component and trait definitions.

Why a layer of its own: checking a definition means rendering its examples through the
whole pipeline (``build``) and checking the objects against Kubernetes' schemas
(``kubeschemas``), so it sits above both; the command line only formats what it returns.
"""
