"""Override policies: patch an Application's components before rendering.

KubeVela's rules (``pkg/policy/envbinding/patch.go``), in order for each component
patch of each override:

- no ``name``: merge into every component (of ``type``, if given);
- a ``name`` is an unanchored regular expression (``*`` means ``.*``) matched against
  component names; a matched component of another ``type`` is replaced by the patch,
  otherwise merged;
- a name that matches nothing adds a new component (if it contains a lowercase letter);
- properties merge as Go's mergo does with override: maps deep-merge, lists and scalars
  (also ``false``, ``0``, ``""`` and null) replace;
- traits match by type: merged, added at the end, or removed with ``disable: true``;
- finally ``selector``, if given, keeps only the named components.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import BuildError, SourceLocation
from engine.model import Application, Component, Source, Trait, YamlPath, regexes
from engine.model.application import PatchOrigin
from engine.model.environment import ComponentPatch, Override, TraitPatch

_ADDABLE = re.compile("[a-z]([a-z-]{0,61}[a-z])?")


def apply_overrides(app: Application, overrides: Sequence[Override]) -> Application:
    """``app`` with every override applied in order."""
    components = list(app.components)
    for override in overrides:
        for patch in override.components:
            components = _patch_components(components, patch, override)
        if override.selector is not None:
            components = [c for c in components if c.name in override.selector]
    return dataclasses.replace(app, components=tuple(components))


def _patch_components(
    components: list[Component], patch: ComponentPatch, override: Override
) -> list[Component]:
    if not patch.name:
        return [
            merge_component(c, patch) if not patch.type or patch.type == c.type else c
            for c in components
        ]
    pattern = _pattern(patch, override)
    matched = False
    out: list[Component] = []
    for component in components:
        if pattern.search(component.name):
            matched = True
            if patch.type and patch.type != component.type:
                component = _replacement(component.name, patch, component, override)
            else:
                component = merge_component(component, patch)
        out.append(component)
    if not matched and _ADDABLE.search(patch.name):
        out.append(_replacement(patch.name, patch, None, override))
    return out


def _pattern(patch: ComponentPatch, override: Override) -> regexes.Regex:
    """The component name as KubeVela reads it: a Go regular expression, ``*`` for ``.*``.

    KubeVela skips a name that does not compile and so adds a component by that name; a
    typo there silently deploys something new, so here it is an error.
    """
    try:
        return regexes.compile(patch.name.replace("*", ".*"))
    except regexes.RegexError as exc:
        raise BuildError(
            f"override {override.name!r}: component name {exc}",
            location=_name_location(patch, override),
        ) from None


def _name_location(patch: ComponentPatch, override: Override) -> SourceLocation | None:
    if patch.source is None:
        return override.location
    return patch.source.locate((*patch.path, "name"))


def _replacement(
    name: str, patch: ComponentPatch, old: Component | None, override: Override
) -> Component:
    """A component made from the patch itself (a new one, or one whose type changed)."""
    if not patch.type:
        raise BuildError(
            f"override {override.name!r} adds component {name!r} but gives it no type",
            location=override.location,
        )
    return Component(
        name=name,
        type=patch.type,
        properties=dict(patch.properties or {}),
        traits=tuple(_new_trait(t, patch) for t in patch.traits if not t.disable),
        depends_on=old.depends_on if old else (),
        path=patch.path,
        source=patch.source,
    )


def _new_trait(patch: TraitPatch, owner: ComponentPatch) -> Trait:
    return Trait(patch.type, dict(patch.properties or {}), patch.path, owner.source)


def merge_component(component: Component, patch: ComponentPatch) -> Component:
    """``component`` with the patch's properties and traits merged in."""
    return dataclasses.replace(
        component,
        properties=merge_properties(component.properties, patch.properties),
        traits=_merge_traits(component.traits, patch),
        patches=component.patches + _origin(patch.properties, patch.path, patch.source),
    )


def _origin(
    properties: Mapping[str, Any] | None, path: YamlPath, source: Source | None
) -> tuple[PatchOrigin, ...]:
    if not properties or source is None:
        return ()
    return (PatchOrigin(source, (*path, "properties"), properties),)


def _merge_traits(traits: Sequence[Trait], owner: ComponentPatch) -> tuple[Trait, ...]:
    out = list(traits)
    for patch in owner.traits:
        present = [i for i, t in enumerate(out) if t.type == patch.type]
        if patch.disable:
            out = [t for t in out if t.type != patch.type]
        elif present:
            origin = _origin(patch.properties, patch.path, owner.source)
            for i in present:
                merged = merge_properties(out[i].properties, patch.properties)
                patches = out[i].patches + origin
                out[i] = dataclasses.replace(out[i], properties=merged, patches=patches)
        else:
            out.append(_new_trait(patch, owner))
    return tuple(out)


def merge_properties(base: Mapping[str, Any], patch: Mapping[str, Any] | None) -> dict[str, Any]:
    """mergo's merge with override: maps deep-merge, everything else replaces."""
    out = dict(base)
    for key, value in (patch or {}).items():
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            out[key] = merge_properties(old, value)
        else:
            out[key] = value
    return out
