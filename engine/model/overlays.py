"""Read kustomize kustomization fields into an ``Overlay``.

Why: an environment file speaks kustomize (``namespace``, ``namePrefix``, ``labels``,
``commonLabels``, ``images``, ``replicas``, ``patches`` and the deprecated
``patchesStrategicMerge`` / ``patchesJson6902``), so that a kustomize overlay converts by
renaming its kind, and the differential tests feed the same fields to ``kubectl kustomize``.
This module turns those fields into the ``Overlay`` value the patch engine applies, the way
kustomize reads them:

- a patch is inline (``patch:``, text or already-parsed YAML) or a file (``path:``, read
  through the caller's ``read`` function, so this stays free of I/O); text that is a YAML
  list is a JSON 6902 patch, otherwise every document is a strategic merge patch (several
  documents need no target - each names its object);
- the deprecated ``patchesStrategicMerge`` and ``patchesJson6902`` stay apart from
  ``patches``: kustomize applies the first before ``patches`` and the second after the
  name and label transforms;
- ``labels`` entries come first, then ``commonLabels`` (selectors and templates included),
  as kustomize applies them;
- ``images[].newTag`` must be a string, as in kustomize (write ``"1.20"``, not ``1.20``).

Fields that only a kustomization has (``resources``, generators, ``components``, ...) and
the Environment file's own fields (``apiVersion``, ``kind``, ``metadata``, ``overrides``,
``selector``) are not overlay fields; the first are rejected, the second ignored. Errors are
``InputError``s that name the field (``patches[1].target.kind``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from engine.errors import InputError, SailplanError, SourceLocation
from engine.model.documents import load_yaml
from engine.model.environment import Image, LabelSet, Overlay, Patch, Replicas, Target
from engine.model.paths import YamlPath, format_path

__all__ = ["OVERLAY_FIELDS", "overlay_from_kustomize"]

Read = Callable[[str], str]
Locate = Callable[[YamlPath], SourceLocation]

OVERLAY_FIELDS: Final = (
    "namespace",
    "namePrefix",
    "nameSuffix",
    "labels",
    "commonLabels",
    "commonAnnotations",
    "images",
    "replicas",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
)
# Fields of the documents that carry an overlay but are not part of it.
IGNORED_FIELDS: Final = ("apiVersion", "kind", "metadata", "resources", "overrides", "selector")
TARGET_FIELDS: Final = {
    "group": "group",
    "version": "version",
    "kind": "kind",
    "name": "name",
    "namespace": "namespace",
    "labelSelector": "label_selector",
    "annotationSelector": "annotation_selector",
}


def overlay_from_kustomize(
    data: Mapping[str, Any], *, read: Read, locate: Locate | None = None
) -> Overlay:
    """The ``Overlay`` that kustomization fields describe.

    ``read(path)`` returns the text of a patch file; ``locate`` maps a YAML path of ``data``
    to a ``SourceLocation`` (for patch locations in later errors); without it, locations
    hold just the YAML path.
    """
    reader = _Reader(read, locate)
    try:
        return reader.overlay(data)
    except _FieldError as exc:
        if locate is None:
            raise
        raise InputError(exc.reason, location=locate(exc.path)) from None


class _Reader:
    def __init__(self, read: Read, locate: Locate | None) -> None:
        self.read = read
        self.locate = locate or (lambda path: SourceLocation(yaml_path=format_path(path)))
        # Patch texts already parsed: an overlay often repeats one patch for many targets.
        # The patch engine never changes a patch, so the parsed documents can be shared.
        self.parsed: dict[str, list[Any]] = {}

    def overlay(self, data: Mapping[str, Any]) -> Overlay:
        if not isinstance(data, Mapping):
            raise _error((), f"an overlay must be a map, got {_type(data)}")
        unknown = [k for k in data if k not in OVERLAY_FIELDS and k not in IGNORED_FIELDS]
        if unknown:
            raise _error(
                (str(unknown[0]),),
                "not supported in an environment overlay (supported: "
                + ", ".join(OVERLAY_FIELDS)
                + ")",
            )
        return Overlay(
            namespace=_optional_text(data, "namespace"),
            name_prefix=_optional_text(data, "namePrefix") or "",
            name_suffix=_optional_text(data, "nameSuffix") or "",
            labels=self.label_sets(data),
            annotations=_string_map(data.get("commonAnnotations"), ("commonAnnotations",)),
            images=tuple(self.images(data.get("images"))),
            replicas=tuple(self.replicas(data.get("replicas"))),
            patches=tuple(self.patches(data)),
            patches_strategic_merge=tuple(self.strategic_patches(data)),
            patches_json6902=tuple(self.json6902_patches(data)),
        )

    # -- labels, images, replicas -----------------------------------------------------------

    def label_sets(self, data: Mapping[str, Any]) -> tuple[LabelSet, ...]:
        sets = []
        for index, entry in enumerate(_list(data.get("labels"), ("labels",))):
            path: YamlPath = ("labels", index)
            _fields(entry, path, ("pairs", "includeSelectors", "includeTemplates"))
            sets.append(
                LabelSet(
                    pairs=_string_map(entry.get("pairs"), (*path, "pairs")),
                    include_selectors=_flag(entry, "includeSelectors", path),
                    include_templates=_flag(entry, "includeTemplates", path),
                )
            )
        common = _string_map(data.get("commonLabels"), ("commonLabels",))
        if common:
            sets.append(LabelSet(common, include_selectors=True, include_templates=True))
        return tuple(sets)

    def images(self, entries: Any) -> list[Image]:
        result = []
        for index, entry in enumerate(_list(entries, ("images",))):
            path: YamlPath = ("images", index)
            _fields(entry, path, ("name", "newName", "newTag", "digest"), required=("name",))
            result.append(
                Image(
                    name=_text(entry, "name", path),
                    new_name=_text(entry, "newName", path, optional=True),
                    new_tag=_text(entry, "newTag", path, optional=True),
                    digest=_text(entry, "digest", path, optional=True),
                )
            )
        return result

    def replicas(self, entries: Any) -> list[Replicas]:
        result = []
        for index, entry in enumerate(_list(entries, ("replicas",))):
            path: YamlPath = ("replicas", index)
            _fields(entry, path, ("name", "count"), required=("name", "count"))
            count = entry["count"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise _error((*path, "count"), f"must be a whole number, got {count!r}")
            result.append(Replicas(_text(entry, "name", path), count))
        return result

    # -- patches ----------------------------------------------------------------------------

    def patches(self, data: Mapping[str, Any]) -> list[Patch]:
        result: list[Patch] = []
        for index, entry in enumerate(_list(data.get("patches"), ("patches",))):
            path: YamlPath = ("patches", index)
            _fields(entry, path, ("patch", "path", "target", "options"))
            self.check_options(entry.get("options"), (*path, "options"))
            result.extend(self.entry(entry, path))
        return result

    def strategic_patches(self, data: Mapping[str, Any]) -> list[Patch]:
        """``patchesStrategicMerge`` (deprecated): strategic merge patches without targets."""
        result: list[Patch] = []
        field = "patchesStrategicMerge"
        for index, entry in enumerate(_list(data.get(field), (field,))):
            path: YamlPath = (field, index)
            for body in self.strategic_entry(entry, path):
                result.append(Patch(body, None, self.locate(path)))
        return result

    def json6902_patches(self, data: Mapping[str, Any]) -> list[Patch]:
        """``patchesJson6902`` (deprecated): JSON patches, each with a target."""
        result: list[Patch] = []
        for index, entry in enumerate(_list(data.get("patchesJson6902"), ("patchesJson6902",))):
            path: YamlPath = ("patchesJson6902", index)
            _fields(entry, path, ("patch", "path", "target"), required=("target",))
            patches = self.entry(entry, path, json_only=True)
            if not all(patch.target and patch.target.name for patch in patches):
                raise _error((*path, "target", "name"), "is required (as in kustomize)")
            result.extend(patches)
        return result

    def entry(
        self, entry: Mapping[str, Any], path: YamlPath, *, json_only: bool = False
    ) -> list[Patch]:
        """The patches of one ``patches`` (or ``patchesJson6902``) entry."""
        has_inline, has_path = "patch" in entry, "path" in entry
        if has_inline == has_path:
            raise _error(path, "give exactly one of 'patch' and 'path'")
        target = self.target(entry.get("target"), (*path, "target"))
        where: YamlPath = (*path, "patch") if has_inline else (*path, "path")
        if has_inline:
            bodies = self.bodies(entry["patch"], where, format_path(where))
        else:
            bodies = self.bodies(self.file(entry, path), where, str(entry["path"]))
        if json_only and not isinstance(bodies[0], list):
            raise _error(where, "patchesJson6902 needs a list of JSON patch operations")
        if target is not None and len(bodies) > 1:
            raise _error(where, "a patch with a target must be a single document")
        location = self.locate(path)
        return [Patch(body, target, location) for body in bodies]

    def strategic_entry(self, entry: Any, path: YamlPath) -> list[Any]:
        """``patchesStrategicMerge``: a file path, inline YAML text, or a parsed map."""
        if isinstance(entry, Mapping):
            return [entry]
        if not isinstance(entry, str):
            raise _error(path, f"must be a file path or a patch, got {_type(entry)}")
        inline = "\n" in entry or ":" in entry
        text = entry if inline else self.read_file(entry, path)
        bodies = self.bodies(text, path, format_path(path) if inline else entry)
        if any(not isinstance(body, Mapping) for body in bodies):
            raise _error(path, "patchesStrategicMerge takes strategic merge patches (maps)")
        return bodies

    def file(self, entry: Mapping[str, Any], path: YamlPath) -> str:
        name = entry["path"]
        if not isinstance(name, str) or not name:
            raise _error((*path, "path"), f"must be a file path, got {name!r}")
        return self.read_file(name, (*path, "path"))

    def read_file(self, name: str, path: YamlPath) -> str:
        try:
            return self.read(name)
        except SailplanError:
            raise
        except (OSError, UnicodeDecodeError) as exc:
            raise _error(path, f"cannot read patch file {name!r}: {exc}") from None

    def bodies(self, value: Any, path: YamlPath, file: str) -> list[Any]:
        """The patch documents of an inline value or a file's text (``file`` names it)."""
        if isinstance(value, Mapping | list):
            return [value]
        if not isinstance(value, str):
            raise _error(path, f"must be a patch (text, map or list), got {_type(value)}")
        documents = self.parsed.get(value)
        if documents is None:
            documents = load_yaml(value, file)
            self.parsed[value] = documents
        if not documents:
            raise _error(path, "the patch is empty")
        if len(documents) > 1 and any(not isinstance(d, Mapping) for d in documents):
            raise _error(path, "a JSON patch must be a single document")
        for document in documents:
            if not isinstance(document, Mapping | list):
                raise _error(path, f"a patch must be a map or a list, got {_type(document)}")
        return documents

    def target(self, value: Any, path: YamlPath) -> Target | None:
        if value is None:
            return None
        _fields(value, path, tuple(TARGET_FIELDS))
        fields = {
            TARGET_FIELDS[name]: _text(value, name, path, optional=True) for name in TARGET_FIELDS
        }
        return Target(**fields)

    def check_options(self, value: Any, path: YamlPath) -> None:
        if value is None:
            return
        _fields(value, path, ("allowNameChange", "allowKindChange"))
        for name in ("allowNameChange", "allowKindChange"):
            if _flag(value, name, path):
                raise _error(
                    (*path, name), "is not supported: a patch keeps the object's name and kind"
                )


# -- small readers -------------------------------------------------------------------------


class _FieldError(InputError):
    """A bad field: located by its YAML path once the file is known."""

    def __init__(self, path: YamlPath, reason: str) -> None:
        where = format_path(path)
        super().__init__(f"{where}: {reason}" if where else reason)
        self.path = path
        self.reason = reason


def _error(path: YamlPath, message: str) -> InputError:
    return _FieldError(path, message)


def _type(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__


def _list(value: Any, path: YamlPath) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _error(path, f"must be a list, got {_type(value)}")
    return value


def _fields(
    entry: Any, path: YamlPath, allowed: tuple[str, ...], *, required: tuple[str, ...] = ()
) -> None:
    if not isinstance(entry, Mapping):
        raise _error(path, f"must be a map, got {_type(entry)}")
    for key in entry:
        if key not in allowed:
            raise _error((*path, str(key)), f"unknown field (known: {', '.join(allowed)})")
    for key in required:
        if key not in entry:
            raise _error((*path, key), "is required")


def _text(entry: Mapping[str, Any], name: str, path: YamlPath, *, optional: bool = False) -> Any:
    value = entry.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        hint = " (quote it)" if isinstance(value, int | float) else ""
        raise _error((*path, name), f"must be a string, got {_type(value)}{hint}")
    return value


def _optional_text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _error((name,), f"must be a string, got {_type(value)}")
    return value


def _flag(entry: Mapping[str, Any], name: str, path: YamlPath) -> bool:
    value = entry.get(name, False)
    if not isinstance(value, bool):
        raise _error((*path, name), f"must be true or false, got {value!r}")
    return value


def _string_map(value: Any, path: YamlPath) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _error(path, f"must be a map of strings, got {_type(value)}")
    for key, item in value.items():
        if not isinstance(item, str):
            hint = " (quote it)" if isinstance(item, int | float | bool) else ""
            raise _error((*path, str(key)), f"must be a string, got {_type(item)}{hint}")
    return dict(value)
