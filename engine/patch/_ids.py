"""Object identities as kustomize tracks them while it transforms a build.

Why this module exists: kustomize's transforms find objects by identity - patch targets,
``replicas`` entries, name references - and they look at the *previous* identities of an
object as well as its current one. A ``replicas: [{name: web}]`` entry still finds the
Deployment after ``namePrefix`` renamed it, and a ConfigMap reference ``cfg`` is rewritten to
``prod-cfg`` because the ConfigMap was once called ``cfg``. kustomize keeps these in build
annotations; here an object travels through the overlay as a ``Tracked`` value holding the
identities it had before each transform that may change one (namespace, prefix, suffix,
JSON patch), exactly where kustomize records them.

It also holds the table of built-in cluster-scoped kinds: they get no namespace, and their
"effective namespace" never matches a namespaced object's.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, Final

# The namespace kustomize gives an object without one, and the placeholder for cluster-scoped
# objects (``resid.TotallyNotANamespace``), which no namespace regex is meant to match.
DEFAULT_NAMESPACE: Final = "default"
NO_NAMESPACE: Final = "~X"

# Built-in cluster-scoped kinds of current Kubernetes, by (group, kind). kustomize 5.5 uses a
# list from its own (older) OpenAPI document, so it takes newer ones (ValidatingAdmissionPolicy,
# the v1 flowcontrol kinds, ...) for namespaced ones and gives them a namespace.
CLUSTER_SCOPED: Final = frozenset(
    {
        ("", "ComponentStatus"),
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("authentication.k8s.io", "SelfSubjectReview"),
        ("authentication.k8s.io", "TokenReview"),
        ("authorization.k8s.io", "SelfSubjectAccessReview"),
        ("authorization.k8s.io", "SelfSubjectRulesReview"),
        ("authorization.k8s.io", "SubjectAccessReview"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("internal.apiserver.k8s.io", "StorageVersion"),
        ("networking.k8s.io", "IPAddress"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("node.k8s.io", "RuntimeClass"),
        ("policy", "PodSecurityPolicy"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("resource.k8s.io", "DeviceClass"),
        ("resource.k8s.io", "DeviceTaintRule"),
        ("resource.k8s.io", "ResourceSlice"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("storage.k8s.io", "VolumeAttributesClass"),
        ("storagemigration.k8s.io", "StorageVersionMigration"),
    }
)


def split_api_version(api_version: str) -> tuple[str, str]:
    """``("apps", "v1")`` from ``apps/v1``; the core group is ``""``."""
    group, _, version = api_version.rpartition("/")
    return group, version


def is_cluster_scoped(group: str, kind: str) -> bool:
    return (group, kind) in CLUSTER_SCOPED


def text_field(obj: Mapping[str, Any], name: str) -> str:
    """A top-level string field of an object (``""`` when absent or not a string)."""
    value = obj.get(name)
    return value if isinstance(value, str) else ""


def metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object's metadata map (empty when absent or not a map)."""
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


@dataclasses.dataclass(frozen=True)
class ResId:
    """An object's identity: group, version, kind, name and namespace as written."""

    group: str
    version: str
    kind: str
    name: str
    namespace: str = ""

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ResId:
        # inlined text_field and metadata: this runs for every object and patch
        api_version = obj.get("apiVersion")
        group, _, version = (api_version if isinstance(api_version, str) else "").rpartition("/")
        kind = obj.get("kind")
        meta = obj.get("metadata")
        if type(meta) is not dict:
            meta = meta if isinstance(meta, Mapping) else {}
        name = meta.get("name")
        namespace = meta.get("namespace")
        return cls(
            group,
            version,
            kind if isinstance(kind, str) else "",
            name if isinstance(name, str) else "",
            namespace if isinstance(namespace, str) else "",
        )

    @property
    def cluster_scoped(self) -> bool:
        return is_cluster_scoped(self.group, self.kind)

    @property
    def effective_namespace(self) -> str:
        """kustomize's ``EffectiveNamespace``: ``default`` for none, a placeholder if unscoped."""
        if self.cluster_scoped:
            return NO_NAMESPACE
        if self.namespace in ("", DEFAULT_NAMESPACE):
            return DEFAULT_NAMESPACE
        return self.namespace

    def same_object(self, other: ResId) -> bool:
        """kustomize's ``ResId.Equals``: same group, version, kind, name and effective namespace."""
        return (self.group, self.version, self.kind, self.name) == (
            other.group,
            other.version,
            other.kind,
            other.name,
        ) and self.effective_namespace == other.effective_namespace

    def __str__(self) -> str:
        namespace = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{namespace}{self.name}"


def _text(meta: Mapping[str, Any], name: str) -> str:
    value = meta.get(name)
    return value if isinstance(value, str) else ""


@dataclasses.dataclass(frozen=True)
class Tracked:
    """An object on its way through the overlay, with the identities it had before.

    ``index`` is its position in the overlay's input; ``previous`` lists earlier identities,
    oldest first, each with its effective namespace (as kustomize stores them). ``obj`` is
    never changed in place (``changed`` makes a new value), so identities are computed once.
    """

    obj: dict[str, Any]
    index: int
    previous: tuple[ResId, ...] = ()

    @functools.cached_property
    def current(self) -> ResId:
        return ResId.of(self.obj)

    @functools.cached_property
    def original(self) -> ResId:
        """kustomize's ``OrgId``: the oldest identity."""
        return self.previous[0] if self.previous else self.current

    def ids(self) -> tuple[ResId, ...]:
        """Every identity, previous ones first, then the current one."""
        return (*self.previous, self.current)

    def remembered(self) -> Tracked:
        """This object with its current identity stored as a previous one."""
        now = self.current
        stored = dataclasses.replace(now, namespace=now.effective_namespace)
        return Tracked(self.obj, self.index, (*self.previous, stored))

    def changed(self, obj: dict[str, Any]) -> Tracked:
        # direct construction: dataclasses.replace costs several times more, per patch
        return Tracked(obj, self.index, self.previous)

    def kept(self, obj: dict[str, Any]) -> Tracked:
        """``changed``, for a change known to keep the identity (a strategic merge patch)."""
        new = Tracked(obj, self.index, self.previous)
        new.__dict__["current"] = self.current  # what cached_property would compute
        return new
