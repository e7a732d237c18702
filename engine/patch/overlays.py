"""Apply an environment's overlay - kustomize's transforms - to rendered manifests.

Why: an environment changes the rendered objects the way a kustomize overlay changes its
base, and users check one against the other, so the steps and their order are kustomize
v5.5's (``KustTarget.configureBuiltinTransformers``), each in its own module:

1. ``patchesStrategicMerge`` (deprecated), then 2. ``patches``, each in order (strategic
   merge via ``strategic``, JSON 6902 via ``jsonpatch``); a target selects objects
   (``targets``), a strategic merge patch without one names its object by
   apiVersion/kind/name/namespace; ``$patch: delete`` at the top removes the objects; a
   strategic merge patch never changes apiVersion, kind, name or namespace;
3. ``namespace`` (``namespace``), 4. ``namePrefix``, 5. ``nameSuffix`` (``names``),
6. ``labels`` / ``commonLabels``, 7. ``commonAnnotations`` (``labels``),
8. ``patchesJson6902`` (deprecated): it sees the renamed, relabelled objects, and its
   targets match an object's original name and namespace or its current ones;
9. ``replicas`` (``replicas``), by any name the object has had; 10. ``images``
   (``images``), by image name;
11. references to renamed objects fixed (``namerefs``).

Between steps every object's label and annotation values are strings, and an empty
annotations map is dropped; a JSON patch may add to missing annotations (``labelmaps``).
Objects keep their order (kustomize sorts its output by kind). A patch, ``replicas`` or
``images`` entry that finds nothing is a warning, not an error: kustomize is silent for a
patch target and an image, and fails for a patch without target and for ``replicas``.
Every error is a ``PatchError`` naming the patch and the object (``Deployment/prod/web``).
Inputs are never changed.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.errors import PatchError
from engine.model.environment import LabelSet, Overlay, Patch
from engine.patch import (
    images,
    labelmaps,
    labels,
    namerefs,
    names,
    namespace,
    replicas,
    targets,
)
from engine.patch._ids import ResId, Tracked, metadata, text_field
from engine.patch._json import type_name
from engine.patch.jsonpatch import apply_json_patch
from engine.patch.strategic import deletes_object, strategic_merge

__all__ = ["OverlayResult", "apply_overlay"]

Transform = Callable[[dict[str, Any]], Any]


@dataclasses.dataclass(frozen=True)
class OverlayResult:
    """The transformed objects, warnings, and for each object the input index it came from."""

    objects: list[dict[str, Any]]
    warnings: tuple[str, ...] = ()
    kept: tuple[int, ...] = ()


def apply_overlay(objects: Sequence[Mapping[str, Any]], overlay: Overlay) -> OverlayResult:
    """``objects`` with every transform of ``overlay`` applied; the inputs do not change."""
    _check_overlay(overlay)
    try:
        return _apply(objects, overlay)
    except RecursionError:
        raise PatchError("an object or a patch is nested too deeply") from None


def _apply(objects: Sequence[Mapping[str, Any]], overlay: Overlay) -> OverlayResult:
    items = [_settled(Tracked(_as_object(obj, i), i)) for i, obj in enumerate(objects)]
    warnings: list[str] = []
    items = _patch_all(items, overlay.patches_strategic_merge, "patchesStrategicMerge", warnings)
    items = _patch_all(items, overlay.patches, "patches", warnings)
    items = _rename_and_label(items, overlay)
    items = _patch_all(items, overlay.patches_json6902, "patchesJson6902", warnings)
    items = _scale(items, overlay, warnings)
    items = _set_images(items, overlay, warnings)
    return OverlayResult(
        namerefs.fix_references(items), tuple(warnings), tuple(item.index for item in items)
    )


def _check_overlay(overlay: Overlay) -> None:
    """The overlay's own values have the types the transforms need."""
    for name in ("name_prefix", "name_suffix"):
        if not isinstance(getattr(overlay, name), str):
            raise PatchError(f"overlay {name} must be a string")
    if overlay.namespace is not None and not isinstance(overlay.namespace, str):
        raise PatchError("overlay namespace must be a string")
    if not isinstance(overlay.annotations, Mapping):
        raise PatchError("overlay annotations must be a map of strings")
    for image in overlay.images:
        fields = (image.new_name, image.new_tag, image.digest)
        if not isinstance(image.name, str) or not all(
            f is None or isinstance(f, str) for f in fields
        ):
            raise PatchError(f"images entry {image.name!r}: names, tags and digests are strings")


def _as_object(obj: Any, index: int) -> dict[str, Any]:
    if not isinstance(obj, Mapping):
        raise PatchError(f"object {index} is {type_name(obj)}, not a Kubernetes object")
    return dict(obj)


def _settled(item: Tracked) -> Tracked:
    """``item`` with label and annotation values as strings (``labelmaps``)."""
    try:
        obj = labelmaps.settle(item.obj)
    except PatchError as exc:
        raise PatchError(f"{item.current}: {_inner(exc)}") from None
    return item if obj is item.obj else item.changed(obj)


# -- transforms ----------------------------------------------------------------------------


def _rename_and_label(items: list[Tracked], overlay: Overlay) -> list[Tracked]:
    """Steps 3-7: namespace, prefix, suffix, labels, annotations."""
    ns, prefix, suffix = overlay.namespace, overlay.name_prefix, overlay.name_suffix
    if ns:
        items = _each(items, "namespace", lambda o: namespace.set_namespace(o, ns), _always)
    if prefix:
        items = _each(items, "namePrefix", lambda o: names.add_prefix(o, prefix), names.renames)
    if suffix:
        items = _each(items, "nameSuffix", lambda o: names.add_suffix(o, suffix), names.renames)
    for label_set in overlay.labels:
        add = functools.partial(_add_labels, label_set=label_set)
        items = _each(items, "labels", add)
    if overlay.annotations:
        notes = overlay.annotations
        items = _each(items, "commonAnnotations", lambda o: labels.add_annotations(o, notes))
    return items


def _add_labels(obj: dict[str, Any], label_set: LabelSet) -> Any:
    return labels.add_labels(obj, label_set)


def _always(obj: Mapping[str, Any]) -> bool:
    return bool(obj)


def _each(
    items: list[Tracked],
    step: str,
    transform: Transform,
    remember: Callable[[Mapping[str, Any]], bool] | None = None,
) -> list[Tracked]:
    """Apply ``transform`` to every object; ``remember`` says whose identity to record first."""
    result: list[Tracked] = []
    for item in items:
        if remember is not None and remember(item.obj):
            item = item.remembered()
        result.append(item.changed(_run(step, item, transform)))
    return result


def _run(step: str, item: Tracked, transform: Transform) -> dict[str, Any]:
    try:
        return dict(transform(item.obj))
    except PatchError as exc:
        raise PatchError(f"{step}: {item.current}: {_inner(exc)}") from None


def _scale(items: list[Tracked], overlay: Overlay, warnings: list[str]) -> list[Tracked]:
    """Step 9: ``replicas`` entries, by current or earlier name."""
    for entry in overlay.replicas:
        hits = [
            position
            for position, item in enumerate(items)
            if replicas.scalable(item.obj) and any(i.name == entry.name for i in item.ids())
        ]
        if not hits:
            warnings.append(
                f"replicas {entry.name!r}: no Deployment, ReplicationController, ReplicaSet "
                "or StatefulSet has that name"
            )
        scale = functools.partial(_set_count, count=entry.count)
        for position in hits:
            items[position] = items[position].changed(_run("replicas", items[position], scale))
    return items


def _set_count(obj: dict[str, Any], count: int) -> dict[str, Any]:
    return replicas.set_replicas(obj, count)


def _set_images(items: list[Tracked], overlay: Overlay, warnings: list[str]) -> list[Tracked]:
    """Step 10: ``images`` entries."""
    if not overlay.images:
        return items
    used: set[int] = set()
    result: list[Tracked] = []
    for item in items:
        obj, hits = images.set_images(item.obj, overlay.images)
        used |= hits
        result.append(item.changed(dict(obj)))
    for index, image in enumerate(overlay.images):
        if index not in used:
            warnings.append(f"images {image.name!r}: no container uses this image")
    return result


# -- patches -------------------------------------------------------------------------------


class _Catalog:
    """The objects while patches apply: by input index, and by every name each has had.

    A target that names its objects by a plain name or kind (the usual case) is looked up
    in an index instead of being tried on every object, so an overlay costs time linear in
    patches plus objects; only real regular expressions and selectors scan.
    """

    def __init__(self, items: Sequence[Tracked]) -> None:
        self.items = {item.index: item for item in items}
        self.by_name: dict[str, set[int]] = {}
        self.by_kind: dict[str, set[int]] = {}
        for item in items:
            self._add_names(item)

    def _add_names(self, item: Tracked) -> None:
        for ident in item.ids():
            self.by_name.setdefault(ident.name, set()).add(item.index)
            self.by_kind.setdefault(ident.kind, set()).add(item.index)

    def named(self, name: str | None) -> list[Tracked]:
        """The objects that have had ``name`` (all objects for ``None``), in input order."""
        if name is None:
            return list(self.items.values())
        return self._listed(self.by_name.get(name, ()))

    def candidates(self, selector: targets.Selector) -> list[Tracked]:
        """The objects ``selector`` may select: by plain name or kind, else all of them."""
        name = selector.name.literal if selector.name else None
        if name is not None:
            return self._listed(self.by_name.get(name, ()))
        kind = selector.kind.literal if selector.kind else None
        if kind is not None:
            return self._listed(self.by_kind.get(kind, ()))
        return list(self.items.values())

    def _listed(self, keys: set[int] | tuple[()]) -> list[Tracked]:
        return [self.items[key] for key in sorted(k for k in keys if k in self.items)]

    def update(self, item: Tracked) -> None:
        old = self.items.get(item.index)
        self.items[item.index] = item
        if old is None or old.previous != item.previous or _moved(old.current, item.current):
            self._add_names(item)

    def delete(self, items: Sequence[Tracked]) -> None:
        for item in items:
            del self.items[item.index]


def _moved(before: ResId, after: ResId) -> bool:
    return before is not after and before != after


def _patch_all(
    items: list[Tracked], patches: Sequence[Patch], field: str, warnings: list[str]
) -> list[Tracked]:
    """Apply the patches of one overlay field in order; ``field`` names them in messages."""
    if not patches:
        return items
    catalog = _Catalog(items)
    for number, patch in enumerate(patches):
        _apply_patch(catalog, patch, f"{field}[{number}]", warnings)
    return list(catalog.items.values())


def _apply_patch(catalog: _Catalog, patch: Patch, ref: str, warnings: list[str]) -> None:
    """Apply one patch to the objects it selects; ``ref`` names it (``patches[0]``)."""
    body = patch.body
    if not isinstance(body, Mapping | list):
        raise _patch_error(
            patch,
            ref,
            "a patch must be a map (strategic merge) or a list of operations (JSON patch), "
            f"got {type_name(body)}",
        )
    selected = _selected(catalog, patch, ref)
    if not selected:
        warnings.append(f"patch {_where(patch, ref)}: {_wanted(patch)} matches no object")
    elif isinstance(body, Mapping) and deletes_object(body):
        catalog.delete(selected)
    else:
        for item in selected:
            catalog.update(_patched(item, patch, ref))


def _selected(catalog: _Catalog, patch: Patch, ref: str) -> list[Tracked]:
    """The objects ``patch`` applies to."""
    if patch.target is not None:
        try:
            selector = targets.compile_target(patch.target)
        except PatchError as exc:
            raise _patch_error(patch, ref, exc.message) from None
        candidates = catalog.candidates(selector)
        return [c for c in candidates if selector.matches(c.obj, c.original, c.current)]
    if isinstance(patch.body, list):
        raise _patch_error(patch, ref, "a JSON patch needs a target")
    wanted = _named_object(patch, ref)
    found = [
        item
        for item in catalog.named(wanted.name)
        if any(ident.same_object(wanted) for ident in item.ids())
    ]
    if len(found) > 1:
        listed = ", ".join(str(item.current) for item in found)
        raise _patch_error(patch, ref, f"{wanted} matches several objects: {listed}")
    return found


def _named_object(patch: Patch, ref: str) -> ResId:
    """The object a strategic merge patch without target names."""
    body = patch.body
    wanted = ResId.of(body)
    if not (text_field(body, "apiVersion") and wanted.kind and wanted.name):
        raise _patch_error(
            patch,
            ref,
            "a patch without a target must name its object (apiVersion, kind and metadata.name)",
        )
    return wanted


def _patched(item: Tracked, patch: Patch, ref: str) -> Tracked:
    """One object with one patch applied, its labels and annotations settled (``labelmaps``)."""
    body = patch.body
    try:
        if isinstance(body, list):
            result = apply_json_patch(labelmaps.with_annotations(item.obj), body)
            if not isinstance(result, Mapping):
                raise PatchError(f"the JSON patch left {type_name(result)}, not an object")
            obj = labelmaps.settle(dict(result))
            renamed = ResId.of(obj) != item.current
            return (item.remembered() if renamed else item).changed(obj)
        merged = _keep_identity(item.obj, strategic_merge(item.obj, body))
        return item.kept(labelmaps.settle(merged))
    except PatchError as exc:
        raise _patch_error(patch, ref, f"{item.current}: {_inner(exc)}") from None


def _keep_identity(before: Mapping[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``after`` with ``before``'s apiVersion, kind, name and namespace (kustomize keeps them)."""
    result = dict(after)
    for key in ("apiVersion", "kind"):
        _copy_key(before, result, key)
    old_meta = metadata(before)
    new_meta = result.get("metadata")
    if isinstance(new_meta, Mapping) or "name" in old_meta or "namespace" in old_meta:
        meta = dict(new_meta) if isinstance(new_meta, Mapping) else {}
        for key in ("name", "namespace"):
            _copy_key(old_meta, meta, key)
        result["metadata"] = meta
    return result


def _copy_key(source: Mapping[str, Any], target: dict[str, Any], key: str) -> None:
    if key in source:
        target[key] = source[key]
    else:
        target.pop(key, None)


# -- messages ------------------------------------------------------------------------------


def _where(patch: Patch, ref: str) -> str:
    return str(patch.location) if patch.location else ref


def _wanted(patch: Patch) -> str:
    if patch.target is not None:
        return f"target {targets.describe(patch.target)}"
    return str(ResId.of(patch.body)) if isinstance(patch.body, Mapping) else "(no target)"


def _inner(exc: PatchError) -> str:
    """The message of an error from a patch function, with its path inside the object."""
    path = exc.location.yaml_path if exc.location else ""
    return f"{path}: {exc.message}" if path else exc.message


def _patch_error(patch: Patch, ref: str, message: str) -> PatchError:
    if patch.location is None:
        return PatchError(f"{ref}: {message}")
    return PatchError(message, location=patch.location)
