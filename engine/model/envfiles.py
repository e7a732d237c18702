"""Environment overlay files: ``kind: Environment`` documents, checked and parsed.

An overlay file uses kustomize's field names (so a kustomize overlay converts by
renaming its kind) plus ``overrides`` (component patches with override-policy
semantics) and ``selector``. Files it refers to (``patches[].path``) are read through
the ``read`` function the caller passes, so parsing stays free of I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.errors import InputError
from engine.model import schemas
from engine.model.documents import Document
from engine.model.environment import Environment, Override, Placement
from engine.model.policies import component_patches

KIND = "Environment"
API_VERSIONS = ("sailplan.dev/v1alpha1", "kustomize.config.k8s.io/v1beta1")

Read = Callable[[str], str]


def is_environment(data: Any) -> bool:
    """Whether a loaded document is an Environment overlay file."""
    return isinstance(data, dict) and data.get("kind") == KIND


def parse_environment(doc: Document, read: Read, *, default_name: str) -> Environment:
    """The Environment a document describes; ``default_name`` if it names none."""
    schemas.check(schemas.bundled("environment"), doc.data, doc.source.locate)
    data: dict[str, Any] = doc.data
    name = str((data.get("metadata") or {}).get("name") or default_name)
    from engine.model.overlays import overlay_from_kustomize  # only when files are used

    try:
        overlay = overlay_from_kustomize(data, read=read, locate=doc.source.locate)
    except InputError as exc:
        if exc.location is None:
            raise InputError(exc.message, location=doc.source.locate(())) from None
        raise
    overrides: tuple[Override, ...] = ()
    if data.get("overrides") or data.get("selector") is not None:
        selector = data.get("selector")
        overrides = (
            Override(
                name=f"{name} (environment file)",
                components=tuple(
                    component_patches(data.get("overrides") or (), ("overrides",), doc.source)
                ),
                selector=tuple(selector) if selector is not None else None,
                location=doc.source.locate(("overrides",)),
            ),
        )
    return Environment(
        name=name,
        placements=(Placement(),),
        overrides=overrides,
        overlay=overlay,
        source=doc.source.file,
    )


def combine(policy_env: Environment, file_env: Environment) -> Environment:
    """A policy-defined environment extended by the overlay file of the same name."""
    return Environment(
        name=policy_env.name,
        placements=policy_env.placements,
        overrides=policy_env.overrides + file_env.overrides,
        overlay=file_env.overlay,
        aliases=policy_env.aliases,
        source=f"{policy_env.source}, {file_env.source}",
    )
