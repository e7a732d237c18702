"""Every independent error of an input file, as linters report them (``validate``).

Why: a build stops at its first error, and a user fixing a file wants all of them at
once. When a file does not build, its parts are checked on their own: an Application
that fails its schema gives every schema violation; one that parses gives, for each
component alone (without its ``dependsOn``), the first error of that component. The
first error of the whole build always comes first; duplicates are dropped; at most
``MAX_ERRORS`` are returned.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from engine.build import build
from engine.definitions import Registry
from engine.environments import Unit, build_every_environment
from engine.errors import SailplanError
from engine.model import Application, Document, is_application, schemas
from engine.model.application import parse_application

__all__ = ["MAX_ERRORS", "errors"]

#: Errors reported for one file; more usually repeat one mistake.
MAX_ERRORS = 20


def errors(
    units: Sequence[Unit], registry: Registry, *, kube_version: tuple[int, int]
) -> list[SailplanError]:
    """The errors of ``units`` (one file's), the build's first error first; [] if it builds."""
    try:
        build_every_environment(units, registry, kube_version=kube_version)
    except SailplanError as exc:
        first = exc
    else:
        return []
    found: list[SailplanError] = [first]
    seen = {str(first)}
    for unit in units:
        for doc in unit.documents:
            if len(found) >= MAX_ERRORS:
                return found
            for error in _document_errors(doc, registry, kube_version):
                if str(error) not in seen:
                    seen.add(str(error))
                    found.append(error)
    return found[:MAX_ERRORS]


def _document_errors(
    doc: Document, registry: Registry, kube_version: tuple[int, int]
) -> list[SailplanError]:
    if not is_application(doc.data):
        return []
    try:
        app = parse_application(doc)
    except SailplanError:
        return _schema_errors(doc)
    return _component_errors(app, registry, kube_version)


def _schema_errors(doc: Document) -> list[SailplanError]:
    validator = schemas.bundled("application")
    return list(schemas.all_errors(validator, doc.data, doc.source.locate, MAX_ERRORS))


def _component_errors(
    app: Application, registry: Registry, kube_version: tuple[int, int]
) -> list[SailplanError]:
    found: list[SailplanError] = []
    for component in app.components:
        alone = dataclasses.replace(
            app, components=(dataclasses.replace(component, depends_on=()),)
        )
        try:
            build(alone, registry, kube_version=kube_version)
        except SailplanError as exc:
            found.append(exc)
    return found
