"""File names for rendered objects: ``<env>/<app>/[<cluster>/]<kind>-<name>.yaml``.

Object kinds and names, namespaces, environment and cluster names all come from
inputs other people write, and ``render --out`` turns them into paths. Each path
component is checked here, so that nothing can name a place outside the output
folder (``..``, ``/``, a NUL byte, a hidden ``.``-name such as the folder's own
marker) and every file is a name the file system takes (at most 255 bytes: longer
ones are cut and given a digest of the whole). Two objects never share a file: names
are compared as a case-insensitive, normalised file system would compare them, and a
clash gets the namespace and then a number.
"""

from __future__ import annotations

import hashlib
import itertools
import unicodedata
from collections.abc import Iterable
from pathlib import PurePosixPath

from engine.errors import BuildError
from engine.model.manifests import Manifest

#: The most bytes most file systems take in one path component.
MAX_COMPONENT_BYTES = 255
SUFFIX = ".yaml"
_YAML_ENDINGS = (".yaml", ".yml")


def file_names(
    manifests: Iterable[tuple[str, str, Manifest]],
) -> dict[str, Manifest]:
    """A relative POSIX path for each ``(env, local_cluster, manifest)``, none shared.

    ``local_cluster`` is the cluster name that gets no folder of its own. A component
    that cannot be a file name is a ``BuildError`` naming the object and its source.
    """
    out: dict[str, Manifest] = {}
    taken: set[str] = set()
    for env, local, manifest in manifests:
        folder = _folder(env or "default", local, manifest)
        ident = manifest.id
        kind = ident.kind.lower()
        candidates = [f"{kind}-{ident.name}"]
        if ident.namespace:
            candidates.append(f"{kind}-{ident.namespace}-{ident.name}")
        path = _free(folder, [_component(c, manifest, "object") for c in candidates], taken)
        out[path] = manifest
    return out


def _folder(env: str, local: str, manifest: Manifest) -> str:
    source = manifest.source.split(" @ ")[0]
    owner = PurePosixPath(source).stem if source.endswith(_YAML_ENDINGS) else source.split("/")[0]
    parts = [_component(env, manifest, "environment"), _component(owner, manifest, "application")]
    if manifest.cluster not in ("", local):
        parts.append(_component(manifest.cluster, manifest, "cluster"))
    return "/".join(parts)


def _free(folder: str, stems: list[str], taken: set[str]) -> str:
    """The first of ``stems`` (then the last numbered) free in ``folder``; marked taken."""
    numbered = (f"{stems[-1]}-{n}" for n in itertools.count(2))
    for stem in itertools.chain(stems, numbered):
        path = f"{folder}/{_fit(stem)}"
        key = _fold(path)
        if key not in taken:
            taken.add(key)
            return path
    raise AssertionError("unreachable")  # pragma: no cover: count() never ends


def _fit(stem: str) -> str:
    """``stem`` + ``.yaml``, cut (with a digest of the whole) to fit one component."""
    name = stem + SUFFIX
    if len(name.encode()) <= MAX_COMPONENT_BYTES:
        return name
    digest = hashlib.sha256(stem.encode()).hexdigest()[:16]
    room = MAX_COMPONENT_BYTES - len(SUFFIX) - len(digest) - 1
    cut = stem.encode()[:room].decode(errors="ignore")
    return f"{cut}-{digest}{SUFFIX}"


def _fold(path: str) -> str:
    """``path`` as a case-insensitive, Unicode-normalising file system compares it."""
    return unicodedata.normalize("NFC", path).casefold()


def _component(text: str, manifest: Manifest, what: str) -> str:
    """``text`` if it can be one path component; else an error naming the object."""
    problem = component_problem(text)
    if problem is None:
        return _fit_folder(text) if what != "object" else text
    ident = manifest.id
    raise BuildError(
        f"{ident} (from {manifest.source}): the {what} name {_shown(text)} cannot be a "
        f"file name under --out: {problem}",
        location=manifest.location,
    )


def _fit_folder(text: str) -> str:
    if len(text.encode()) <= MAX_COMPONENT_BYTES:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    cut = text.encode()[: MAX_COMPONENT_BYTES - len(digest) - 1].decode(errors="ignore")
    return f"{cut}-{digest}"


def component_problem(text: str) -> str | None:
    """Why ``text`` cannot be one component of a path under the output folder, or None."""
    if not text:
        return "it is empty"
    if text in (".", ".."):
        return "it names a folder, not a file"
    if text.startswith("."):
        return "it starts with '.' (hidden files are reserved)"
    for char in text:
        if char in "/\\":
            return f"it holds {char!r}"
        if unicodedata.category(char) in ("Cc", "Cs", "Cn"):
            return f"it holds the character U+{ord(char):04X}"
    return None


def _shown(text: str, limit: int = 80) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"
