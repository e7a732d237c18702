"""Check rendered objects against the Kubernetes OpenAPI schemas of a release.

Why: a template can render YAML that parses and merges fine and is still rejected by the
API server (``replicas: "x"``, a misspelt field). ``kubernetes-validate`` ships the JSON
Schemas of every recent Kubernetes release, so the check runs offline. The package is
large, so it is an optional extra (``sailplan[validate]``), imported only when a check
runs. Its strict schemas are used, as ``kubectl apply`` validates strictly by default:
unknown fields are errors. Kinds it has no schema for (custom resources such as Flux's)
are reported as skipped, not failed.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import importlib
import importlib.resources
import re
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

from engine import kubefields
from engine.errors import SailplanError, SourceLocation
from engine.model import Manifest, ResourceId
from engine.model.secrets import redact_text, secret_values

EXTRA = "validate"


@dataclasses.dataclass(frozen=True)
class ObjectProblem:
    """One rendered object that does not match its Kubernetes schema."""

    id: ResourceId
    source: str
    location: SourceLocation | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.id} ({self.source}): {where}{self.message}"


@dataclasses.dataclass(frozen=True)
class SkippedObject:
    """A rendered object whose kind has no schema in the Kubernetes release."""

    id: ResourceId
    source: str


@dataclasses.dataclass(frozen=True)
class KubeReport:
    """The outcome of checking some objects against one release's schemas."""

    requested: tuple[int, int]
    version: str
    checked: int
    problems: tuple[ObjectProblem, ...]
    skipped: tuple[SkippedObject, ...]

    @property
    def note(self) -> str:
        """Which schemas were used, when they are not exactly the ones asked for."""
        asked = f"{self.requested[0]}.{self.requested[1]}"
        if asked == self.version:
            return ""
        return f"Kubernetes {asked} schemas are not available; used the nearest, {self.version}"


def missing_message() -> str:
    """What to tell a user who asked for Kubernetes schema checks without the extra."""
    return (
        "Kubernetes schema validation needs the kubernetes-validate package: "
        f"install sailplan[{EXTRA}] (pip install 'sailplan[{EXTRA}]')"
    )


def _library() -> ModuleType:
    try:
        return importlib.import_module("kubernetes_validate")
    except ImportError:
        raise SailplanError(missing_message()) from None


def available_versions() -> list[str]:
    """The Kubernetes minors (``"1.30"``) the installed kubernetes-validate has schemas for."""
    utils = importlib.import_module(_library().__name__ + ".utils")
    found = {_minor(v) for v in utils.all_versions()}
    return sorted((v for v in found if v), key=_key)


def nearest_version(requested: tuple[int, int], versions: Sequence[str]) -> str:
    """The newest of ``versions`` not newer than ``requested``, else the oldest one."""
    if not versions:
        raise SailplanError("kubernetes-validate has no Kubernetes schemas installed")
    ordered = sorted(versions, key=_key)
    older = [v for v in ordered if _key(v) <= requested]
    return older[-1] if older else ordered[0]


def validate(manifests: Iterable[Manifest], kube_version: tuple[int, int]) -> KubeReport:
    """Check every object of ``manifests`` against the schemas of ``kube_version``."""
    library = _library()
    version = nearest_version(kube_version, available_versions())
    problems: list[ObjectProblem] = []
    skipped: list[SkippedObject] = []
    checked = 0
    exact = _key(version) == kube_version
    for manifest in manifests:
        problems.extend(_name_problems(manifest))
        outcome = _check(library, manifest, version, exact=exact)
        if isinstance(outcome, SkippedObject):
            skipped.append(outcome)
            continue
        checked += 1
        problems.extend(outcome)
    return KubeReport(kube_version, version, checked, tuple(problems), tuple(skipped))


def _check(
    library: ModuleType, manifest: Manifest, version: str, *, exact: bool
) -> list[ObjectProblem] | SkippedObject:
    """The object's problems (none: fine), or a skip.

    An object of a Kubernetes kind whose API version the release lacks is a problem,
    unless the schemas are only the nearest ones: the version may exist in the release
    asked for (``batch/v1beta1`` CronJobs before 1.21, say).
    """
    try:
        validator = _validator(version, manifest.id.kind, manifest.id.api_version)
        if validator is None:
            raise library.SchemaNotFoundError(
                version=version, kind=manifest.id.kind, api_version=manifest.id.api_version
            )
        errors = sorted(validator.iter_errors(manifest.object), key=_order)
    except library.SchemaNotFoundError:
        known = _kubernetes_group(manifest.id.group) and manifest.id.kind.lower() in _kinds(version)
        if known and exact:
            return [
                _problem(
                    manifest,
                    "apiVersion",
                    f"Kubernetes {version} has no {manifest.id.kind} in {manifest.id.api_version} "
                    "(removed or misspelt API version?)",
                )
            ]
        return SkippedObject(manifest.id, manifest.source)
    except Exception as exc:  # a schema the library cannot load or resolve
        return [_problem(manifest, "", f"cannot be checked: {exc}")]
    found = [_problem(manifest, _path(e.absolute_path), _message(e, manifest)) for e in errors]
    if _kubernetes_group(manifest.id.group):
        found.extend(_problem(manifest, p, m) for p, m in kubefields.problems(manifest.object))
    return found[:MAX_PROBLEMS_PER_OBJECT]


#: Problems reported for one object: enough to fix it in one go, not a flood.
MAX_PROBLEMS_PER_OBJECT = 20
_INT_RANGES = {"int32": 32, "int64": 64}


def _order(error: Any) -> list[str]:
    return [str(part) for part in error.absolute_path]


def _message(error: Any, manifest: Manifest) -> str:
    """The schema's message, with format failures said plainly (Secret values never shown)."""
    if error.validator != "format":
        return str(error.message)
    fmt = error.validator_value
    if fmt in _INT_RANGES:
        bits = _INT_RANGES[fmt]
        return (
            f"{error.instance} is out of range for a {bits}-bit integer "
            f"({-(2 ** (bits - 1))} to {2 ** (bits - 1) - 1})"
        )
    if fmt == "byte":
        return "is not valid base64 (Secret data and binaryData hold base64-encoded bytes)"
    return str(error.message)


@functools.cache
def _validator(version: str, kind: str, api_version: str) -> Any:
    """A validator for one kind's strict schema, with int32/int64/byte formats, or None."""
    import jsonschema
    from referencing import Registry, Resource

    utils = importlib.import_module(_library().__name__ + ".utils")
    full = next((v for v in utils.all_versions() if _minor(v) == version), version)
    folder = f"kubernetes-json-schema/v{full}-local-strict"
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = utils.schema_contents(f"{folder}/{kind.lower()}-{api}.json", version)
    except FileNotFoundError:
        return None
    definitions = utils.schema_contents(f"{folder}/_definitions.json", version)
    registry: Any = Resource.from_contents(schema) @ Registry()
    registry = Resource.from_contents(definitions) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=_formats())


@functools.cache
def _formats() -> Any:
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    for name, bits in _INT_RANGES.items():
        checker.checks(name)(functools.partial(_in_range, bits=bits))
    checker.checks("byte")(_is_base64)
    return checker


def _in_range(value: Any, bits: int) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return True
    limit: int = 2 ** (bits - 1)
    return -limit <= value < limit


def _is_base64(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_SUBDOMAIN = ("a DNS-1123 subdomain (lower case letters, digits, '-' and '.')", _DNS_SUBDOMAIN, 253)
_LABEL = ("a DNS-1123 label (lower case letters, digits and '-')", _DNS_LABEL, 63)
_NAME_RULES: dict[tuple[str, str], tuple[str, re.Pattern[str] | None, int]] = {
    ("", "Service"): ("a DNS-1035 label (starting with a letter)", _DNS_1035_LABEL, 63),
    ("", "Namespace"): _LABEL,
    **{
        ("rbac.authorization.k8s.io", kind): ("a path segment (no '/' or '%')", None, 253)
        for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
    },
}


def _name_problems(manifest: Manifest) -> list[ObjectProblem]:
    """The object's name and namespace as the API server checks them (the schemas don't)."""
    ident = manifest.id
    described, pattern, limit = _NAME_RULES.get((ident.group, ident.kind), _SUBDOMAIN)
    problems = []
    if not _name_ok(ident.name, pattern, limit):
        problems.append(_problem(manifest, "metadata.name", f"{ident.name!r} is not {described}"))
    if ident.namespace and not _name_ok(ident.namespace, _DNS_LABEL, 63):
        message = f"{ident.namespace!r} is not {_LABEL[0]}"
        problems.append(_problem(manifest, "metadata.namespace", message))
    return problems


def _name_ok(name: str, pattern: re.Pattern[str] | None, limit: int) -> bool:
    if len(name) > limit:
        return False
    if pattern is None:
        return name not in (".", "..") and "/" not in name and "%" not in name
    return pattern.match(name) is not None


def _kubernetes_group(group: str) -> bool:
    """Whether an API group is Kubernetes' own (custom resource groups contain a dot)."""
    return "." not in group or group.endswith(".k8s.io")


@functools.cache
def _kinds(version: str) -> frozenset[str]:
    """The kinds (lower case) that have a schema in ``version``, from the file names.

    The schema folders are named ``v<version>.0-local-strict`` and hold
    ``<kind>[-<group>]-<version>.json``; if that layout changes, nothing is known.
    """
    try:
        root = importlib.resources.files(_library().__name__) / "kubernetes-json-schema"
        folders = [f for f in root.iterdir() if f.name.startswith(f"v{version}.")]
        names = [n.name for f in folders if f.name.endswith("-strict") for n in f.iterdir()]
    except OSError:
        return frozenset()
    return frozenset(name.split("-", 1)[0] for name in names if name.endswith(".json"))


def _problem(manifest: Manifest, path: str, message: str) -> ObjectProblem:
    """A problem of ``manifest``; its message never shows a Secret value of the object."""
    shown = redact_text(message, secret_values(manifest.object))
    return ObjectProblem(manifest.id, manifest.source, manifest.location, path, shown)


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def _minor(version: str) -> str:
    parts = version.lstrip("v").split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 and all(p.isdigit() for p in parts[:2]) else ""


def _key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)
