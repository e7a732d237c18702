"""The API server's common field validations that the OpenAPI schemas do not carry.

Why: the schemas say ``containerPort`` is an integer and ``labels`` a map of strings; the
API server also rejects port 0 or 70000, a label value of 64 characters, an annotation key
with two slashes and a memory limit of ``12 GB``. ``validate --strict`` checks these for
Kubernetes' own kinds (apimachinery's ``IsValidPortNum``, ``IsQualifiedName``,
``IsValidLabelValue``, ``ValidateAnnotations`` and ``resource.ParseQuantity``), each a
problem with the path inside the object. Integer widths (int32, int64) and base64
(``Secret.data``) come from the schemas' formats (``kubeschemas``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

__all__ = ["FieldProblem", "problems"]

FieldProblem = tuple[str, str]  # (path inside the object, message)

MAX_PORT: Final = 65535
#: apimachinery's TotalAnnotationSizeLimitB: keys plus values of one object.
MAX_ANNOTATIONS: Final = 256 * 1024

_NAME: Final = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z")
_PREFIX: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_PORT_NAME: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
# resource.Quantity: a signed decimal (or .5) with an optional suffix.
_QUANTITY: Final = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?\Z"
)
_QUANTITY_MAPS: Final = frozenset({"limits", "requests", "capacity", "hard", "overhead"})
_QUANTITY_KEYS: Final = frozenset({"sizeLimit", "storage"})

#: Port fields: (lowest, text allowed as a port name).
_PORTS: Final[Mapping[str, tuple[int, bool]]] = {
    "containerPort": (1, False),
    "hostPort": (0, False),  # 0: not set
    "nodePort": (0, False),  # 0: allocated by the server
    "targetPort": (1, True),
    "port": (1, True),
}
_QUALIFIED = (
    "a qualified name: an optional DNS subdomain prefix and '/', then at most 63 "
    "alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric"
)


def problems(obj: Mapping[str, Any]) -> list[FieldProblem]:
    """Every field of ``obj`` (a Kubernetes kind) the API server would reject, by path."""
    found: list[FieldProblem] = []
    _walk(obj, "", "", found)
    return found


def _walk(node: Any, path: str, key: str, found: list[FieldProblem]) -> None:
    """Depth first through maps and lists; ``key`` is the name ``node`` was found under."""
    todo: list[tuple[Any, str, str]] = [(node, path, key)]
    while todo:
        node, path, key = todo.pop()
        if isinstance(node, Mapping):
            if key == "metadata":
                found.extend(_metadata(node, path))
            for child, value in reversed(list(node.items())):
                if not isinstance(child, str):
                    continue
                where = f"{path}.{child}" if path else child
                found.extend(_field(child, value, where, key))
                todo.append((value, where, child))
        elif isinstance(node, list):
            for index in reversed(range(len(node))):
                todo.append((node[index], f"{path}[{index}]", ""))


def _field(key: str, value: Any, where: str, parent: str) -> Iterator[FieldProblem]:
    if (key in _PORTS and not isinstance(value, Mapping | list)) or (
        key == "number" and parent == "port"
    ):
        yield from _port(key, value, where)
    elif parent in _QUANTITY_MAPS or key in _QUANTITY_KEYS:
        yield from _quantity(value, where)


def _port(key: str, value: Any, where: str) -> Iterator[FieldProblem]:
    lowest, named = _PORTS.get(key, (1, False))
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not (lowest <= value <= MAX_PORT) and not (lowest == 0 and value == 0):
            yield where, f"{value} is not a valid port number (must be {lowest}-{MAX_PORT})"
    elif isinstance(value, str) and named and not _port_name_ok(value):
        yield (
            where,
            (
                f"{_short(value)} is not a valid port name (at most 15 lower case letters, digits "
                "and '-', with a letter, not starting or ending with '-', no '--')"
            ),
        )


def _port_name_ok(name: str) -> bool:
    """apimachinery's IsValidPortName (IANA_SVC_NAME)."""
    return (
        0 < len(name) <= 15
        and _PORT_NAME.match(name) is not None
        and "--" not in name
        and any(c.isalpha() for c in name)
    )


def _quantity(value: Any, where: str) -> Iterator[FieldProblem]:
    if value is None or isinstance(value, bool | int | float | Mapping | list):
        return
    if not isinstance(value, str) or not _QUANTITY.match(value):
        yield (
            where,
            (
                f"{_short(value)} is not a Kubernetes quantity (a number with an optional suffix "
                "such as 500m, 128Mi, 2Gi or 1e3)"
            ),
        )


def _metadata(meta: Mapping[str, Any], path: str) -> Iterator[FieldProblem]:
    labels = meta.get("labels")
    if isinstance(labels, Mapping):
        for key, value in labels.items():
            where = f"{path}.labels[{key!r}]" if path else f"labels[{key!r}]"
            yield from _key(key, where, "label")
            if isinstance(value, str) and value and (len(value) > 63 or not _NAME.match(value)):
                yield (
                    where,
                    (
                        f"label value {_short(value)} is not valid (at most 63 alphanumeric "
                        "characters, '-', '_' or '.', starting and ending with an alphanumeric)"
                    ),
                )
    annotations = meta.get("annotations")
    if isinstance(annotations, Mapping):
        total = 0
        for key, value in annotations.items():
            where = f"{path}.annotations[{key!r}]" if path else f"annotations[{key!r}]"
            yield from _key(key, where, "annotation")
            total += len(str(key)) + (len(value) if isinstance(value, str) else 0)
        if total > MAX_ANNOTATIONS:
            where = f"{path}.annotations" if path else "annotations"
            yield (
                where,
                (f"the annotations are {total:,} bytes; the limit is 256 KiB"),
            )


def _key(key: Any, where: str, what: str) -> Iterator[FieldProblem]:
    """apimachinery's IsQualifiedName for label and annotation keys."""
    if not isinstance(key, str):
        return
    prefix, slash, name = key.rpartition("/")
    bad_prefix = slash and (not prefix or len(prefix) > 253 or not _PREFIX.match(prefix))
    if bad_prefix or not name or len(name) > 63 or not _NAME.match(name):
        yield where, f"{what} key {_short(key)} is not {_QUALIFIED}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
