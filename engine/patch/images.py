"""The ``images`` transform: change container images by name.

Why: environments pin images (``newTag: 1.4.2``, a ``digest``, a mirror as ``newName``)
without patching every workload, as kustomize's ImageTagTransformer does:

- every ``image`` of an element of a list called ``containers`` or ``initContainers``, at any
  depth, in any kind (so CronJobs, Pods, custom resources with pod templates) - except in
  ``CustomResourceDefinition``s; other ``image`` fields are left alone;
- an entry matches an image whose name is the entry's ``name``, followed by an optional
  ``:tag`` and an optional ``@sha256:digest`` (``nginx`` matches ``nginx``, ``nginx:1.25``
  and ``nginx@sha256:...`` but not ``docker.io/library/nginx``);
- ``newName`` replaces the name; ``newTag`` replaces the tag and drops a digest; ``digest``
  replaces tag and digest; both give ``name:tag@digest``;
- entries apply in order, each to the result of the one before.

Deliberate difference: the name matches literally. kustomize pastes it into a regular
expression, so its ``.`` matches any character (``my.app`` also matches ``my-app``) and a
name with ``(`` or ``+`` breaks the build.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from engine.model.environment import Image

__all__ = ["matches", "set_images", "split_image"]

CONTAINER_LISTS: Final = ("containers", "initContainers")
_TAG_AND_DIGEST: Final = r"(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?\Z"


def set_images(obj: Mapping[str, Any], images: Sequence[Image]) -> tuple[Any, frozenset[int]]:
    """``obj`` with ``images`` applied, and the indexes of the entries that matched."""
    if obj.get("kind") == "CustomResourceDefinition" or not images:
        return obj, frozenset()
    used: set[int] = set()
    result: Any = obj
    for index, image in enumerate(images):
        pattern = re.compile(re.escape(image.name) + _TAG_AND_DIGEST)
        result, hit = _walk(result, image, pattern)
        if hit:
            used.add(index)
    return result, frozenset(used)


def matches(reference: str, name: str) -> bool:
    """Whether the image reference ``reference`` is image ``name`` (any tag or digest)."""
    return re.match(re.escape(name) + _TAG_AND_DIGEST, reference) is not None


def split_image(reference: str) -> tuple[str, str, str]:
    """``(name, tag, digest)`` of an image reference, as kustomize splits it.

    A ``:`` before the first ``/`` is a registry port, not a tag.
    """
    slash = reference.find("/")
    start = slash if slash > 0 else 0
    search = reference[start:]
    at, colon = search.find("@"), search.find(":")
    if colon < 0 and at < 0:
        return reference, "", ""
    if at >= 0 and (at < colon or colon < 0):
        return reference[: start + at], "", reference[start + at + 1 :]
    if at >= 0:
        name = reference[: start + colon]
        return name, reference[start + colon + 1 : start + at], reference[start + at + 1 :]
    return reference[: start + colon], reference[start + colon + 1 :], ""


def _new_reference(reference: str, image: Image) -> str:
    name, tag, digest = split_image(reference)
    if image.new_name:
        name = image.new_name
    if image.new_tag and image.digest:
        tag, digest = image.new_tag, image.digest
    elif image.new_tag:
        tag, digest = image.new_tag, ""
    elif image.digest:
        tag, digest = "", image.digest
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _walk(node: Any, image: Image, pattern: re.Pattern[str]) -> tuple[Any, bool]:
    """``node`` with the image entry applied below it, and whether anything matched."""
    if isinstance(node, list):
        pairs = [_walk(item, image, pattern) for item in node]
        if not any(hit for _, hit in pairs):
            return node, False
        return [value for value, _ in pairs], True
    if not isinstance(node, Mapping):
        return node, False
    result: dict[Any, Any] | None = None
    hit_any = False
    for key, value in node.items():
        new, hit = _walk(value, image, pattern)
        if key in CONTAINER_LISTS and isinstance(new, list):
            new, listed = _containers(new, image, pattern)
            hit = hit or listed
        if hit:
            hit_any = True
            result = dict(node) if result is None else result
            result[key] = new
    return (node if result is None else result), hit_any


def _containers(items: list[Any], image: Image, pattern: re.Pattern[str]) -> tuple[list[Any], bool]:
    out: list[Any] = []
    hit = False
    for item in items:
        reference = item.get("image") if isinstance(item, Mapping) else None
        if isinstance(reference, str) and pattern.match(reference):
            item = {**item, "image": _new_reference(reference, image)}
            hit = True
        out.append(item)
    return out, hit
