"""Name references: after a rename, fix every field that names the renamed object.

Why: ``namePrefix: prod-`` renames the ConfigMap ``cfg`` to ``prod-cfg``; the Deployment that
mounts it must now say ``prod-cfg`` or the pod never starts. kustomize fixes such references
from a table of "kind X is named in field F of kind Y" (``namereference.go``); ``REFERENCES``
below is that table for kustomize v5.5: ConfigMaps and Secrets in pod specs (volumes,
projected volumes, ``env[].valueFrom``, ``envFrom``, ``imagePullSecrets``) of every workload
kind, Services in Ingress backends and StatefulSet ``serviceName``, ServiceAccounts in
``serviceAccountName`` and binding subjects, PVC ``claimName``, HPA ``scaleTargetRef``, Role
and ClusterRole in ``roleRef``, StorageClass, PriorityClass, PersistentVolume and more.

A reference is rewritten the way kustomize's ``nameref`` filter decides:

1. only objects whose identity changed (namespace, prefix/suffix, JSON patch) are
   candidates, and a candidate matches when one of its *earlier* names is the value and its
   kind is the table's (for ``roleRef``, the ``apiGroup``/``kind`` written beside it);
2. a namespaced referrer only sees cluster-scoped candidates, ServiceAccounts, and objects in
   its own namespace (a RoleBinding also those in its subjects' namespaces);
3. a subject (``{name, namespace}``) is looked up in its namespace - original first, then
   current - and gets the candidate's new name *and* namespace;
4. several candidates with different new names are an error, as in kustomize.

Deliberate differences from kustomize 5.5: only ``kind: ServiceAccount`` subjects are
rewritten (kustomize renames a ``User`` or ``Group`` subject that shares its name with a
ServiceAccount of the build); and ``spec.ingressClassName`` follows a renamed IngressClass
(kustomize's table names the group ``networking.k8s.io/v1``, which never matches, so the
reference is left dangling).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from engine.errors import PatchError
from engine.patch import _fieldspecs
from engine.patch._fieldspecs import FieldSpec
from engine.patch._ids import ResId, Tracked

__all__ = ["REFERENCES", "Reference", "fix_references"]


@dataclasses.dataclass(frozen=True)
class Reference:
    """``field`` of objects it selects names an object of ``kind`` (``group``, ``version``)."""

    kind: str
    field: FieldSpec
    group: str = ""
    version: str = ""

    def targets(self, ident: ResId) -> bool:
        return (
            self.kind == ident.kind
            and (not self.group or self.group == ident.group)
            and (not self.version or self.version == ident.version)
        )


# -- the table -----------------------------------------------------------------------------

_POD_SPECS: Final = (
    ("Pod", "v1", "spec"),
    ("PodTemplate", "", "template/spec"),
    ("Deployment", "", "spec/template/spec"),
    ("ReplicaSet", "", "spec/template/spec"),
    ("DaemonSet", "", "spec/template/spec"),
    ("StatefulSet", "", "spec/template/spec"),
    ("Job", "", "spec/template/spec"),
    ("CronJob", "", "spec/jobTemplate/spec/template/spec"),
)
# Pod-spec holders for ServiceAccounts, PVCs and PriorityClasses (kustomize's second list).
_WORKLOADS: Final = (
    ("Pod", "spec"),
    ("StatefulSet", "spec/template/spec"),
    ("Deployment", "spec/template/spec"),
    ("ReplicationController", "spec/template/spec"),
    ("CronJob", "spec/jobTemplate/spec/template/spec"),
    ("Job", "spec/template/spec"),
    ("DaemonSet", "spec/template/spec"),
)
_CONFIGMAP_FIELDS: Final = (
    "volumes/configMap/name",
    "containers/env/valueFrom/configMapKeyRef/name",
    "initContainers/env/valueFrom/configMapKeyRef/name",
    "containers/envFrom/configMapRef/name",
    "initContainers/envFrom/configMapRef/name",
    "volumes/projected/sources/configMap/name",
)
_SECRET_FIELDS: Final = (
    "volumes/secret/secretName",
    "containers/env/valueFrom/secretKeyRef/name",
    "initContainers/env/valueFrom/secretKeyRef/name",
    "containers/envFrom/secretRef/name",
    "initContainers/envFrom/secretRef/name",
    "imagePullSecrets/name",
    "volumes/projected/sources/secret/name",
)
_RBAC: Final = "rbac.authorization.k8s.io"


def _in_pod_specs(kind: str, fields: tuple[str, ...]) -> tuple[Reference, ...]:
    return tuple(
        Reference(kind, FieldSpec(f"{prefix}/{field}", kind=holder, version=version), version="v1")
        for holder, version, prefix in _POD_SPECS
        for field in fields
    )


def _in_workloads(
    kind: str, field: str, group: str = "", version: str = ""
) -> tuple[Reference, ...]:
    return tuple(
        Reference(kind, FieldSpec(f"{prefix}/{field}", kind=holder), group, version)
        for holder, prefix in _WORKLOADS
    )


def _refs(
    kind: str, *fields: FieldSpec, group: str = "", version: str = ""
) -> tuple[Reference, ...]:
    return tuple(Reference(kind, field, group, version) for field in fields)


_F = FieldSpec

REFERENCES: Final = (
    *(
        Reference(kind, _F("spec/scaleTargetRef/name", kind="HorizontalPodAutoscaler"))
        for kind in ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")
    ),
    *_in_pod_specs("ConfigMap", _CONFIGMAP_FIELDS),
    *_refs(
        "ConfigMap",
        _F("spec/configSource/configMap", kind="Node"),
        _F("rules/resourceNames", kind="Role"),
        _F("rules/resourceNames", kind="ClusterRole"),
        _F(
            "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap",
            kind="Ingress",
        ),
        version="v1",
    ),
    *_in_pod_specs("Secret", _SECRET_FIELDS),
    *_refs(
        "Secret",
        _F("spec/tls/secretName", kind="Ingress"),
        _F("metadata/annotations/ingress.kubernetes.io\\/auth-secret", kind="Ingress"),
        _F("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret", kind="Ingress"),
        _F("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret", kind="Ingress"),
        _F("imagePullSecrets/name", kind="ServiceAccount"),
        *(
            _F(f"parameters/{name}", kind="StorageClass")
            for name in ("secretName", "adminSecretName", "userSecretName", "secretRef")
        ),
        _F("rules/resourceNames", kind="Role"),
        _F("rules/resourceNames", kind="ClusterRole"),
        _F(
            "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
            kind="Service",
            group="serving.knative.dev",
            version="v1",
        ),
        _F("spec/azureFile/secretName", kind="PersistentVolume"),
        version="v1",
    ),
    *_refs(
        "Service",
        _F("spec/serviceName", kind="StatefulSet", group="apps"),
        _F("spec/rules/http/paths/backend/serviceName", kind="Ingress"),
        _F("spec/backend/serviceName", kind="Ingress"),
        _F("spec/rules/http/paths/backend/service/name", kind="Ingress"),
        _F("spec/defaultBackend/service/name", kind="Ingress"),
        _F("spec/service/name", kind="APIService", group="apiregistration.k8s.io"),
        *(
            _F("webhooks/clientConfig/service", kind=kind, group="admissionregistration.k8s.io")
            for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
        ),
        version="v1",
    ),
    *_refs("Role", _F("roleRef/name", kind="RoleBinding", group=_RBAC), group=_RBAC),
    *_refs(
        "ClusterRole",
        _F("roleRef/name", kind="RoleBinding", group=_RBAC),
        _F("roleRef/name", kind="ClusterRoleBinding", group=_RBAC),
        group=_RBAC,
    ),
    *_refs(
        "ServiceAccount",
        _F("subjects", kind="RoleBinding", group=_RBAC),
        _F("subjects", kind="ClusterRoleBinding", group=_RBAC),
        version="v1",
    ),
    *_in_workloads("ServiceAccount", "serviceAccountName", version="v1"),
    *_in_workloads(
        "PersistentVolumeClaim", "volumes/persistentVolumeClaim/claimName", version="v1"
    ),
    *_refs(
        "PersistentVolume",
        _F("spec/volumeName", kind="PersistentVolumeClaim"),
        _F("rules/resourceNames", kind="ClusterRole"),
        version="v1",
    ),
    *_refs(
        "StorageClass",
        _F("spec/storageClassName", kind="PersistentVolume"),
        _F("spec/storageClassName", kind="PersistentVolumeClaim"),
        _F("spec/volumeClaimTemplates/spec/storageClassName", kind="StatefulSet"),
        group="storage.k8s.io",
        version="v1",
    ),
    *_in_workloads("PriorityClass", "priorityClassName", "scheduling.k8s.io", "v1"),
    # kustomize writes group "networking.k8s.io/v1" here, so its entry never matches.
    *_refs("IngressClass", _F("spec/ingressClassName", kind="Ingress"), group="networking.k8s.io"),
    *_refs(
        "ValidatingAdmissionPolicy",
        _F(
            "spec/policyName",
            kind="ValidatingAdmissionPolicyBinding",
            group="admissionregistration.k8s.io",
        ),
        group="admissionregistration.k8s.io",
    ),
)


# -- fixing references ---------------------------------------------------------------------


def fix_references(items: Sequence[Tracked]) -> list[dict[str, Any]]:
    """The objects of ``items`` with their references to renamed objects fixed."""
    if not any(item.previous for item in items):
        return [item.obj for item in items]
    index = _Index(items)
    return [_fix_object(item, index) for item in items]


class _Index:
    """The objects that can be referred to by an earlier name, by that name and namespace."""

    def __init__(self, items: Sequence[Tracked]) -> None:
        self.by_name: dict[str, list[Tracked]] = {}
        self.by_original_namespace: dict[str, list[Tracked]] = {}
        for item in items:
            if not item.previous:
                continue  # kustomize only follows objects whose identity changed
            for name in dict.fromkeys(ident.name for ident in item.previous):
                self.by_name.setdefault(name, []).append(item)
        for item in items:
            namespace = item.original.effective_namespace
            self.by_original_namespace.setdefault(namespace, []).append(item)


def _fix_object(item: Tracked, index: _Index) -> dict[str, Any]:
    original = item.original
    references = [ref for ref in REFERENCES if _field_selects(ref.field, original)]
    if not references:
        return item.obj
    visible = _Visibility(item)
    obj: Any = item.obj
    try:
        for ref in references:
            fixer = _Fixer(ref, item, index, visible)
            obj = _fieldspecs.update(obj, FieldSpec(ref.field.path), fixer.fix, create=False)
    except PatchError as exc:
        raise PatchError(f"name references: {item.current}: {exc.message}") from None
    return dict(obj)


def _field_selects(field: FieldSpec, ident: ResId) -> bool:
    return (
        (not field.kind or field.kind == ident.kind)
        and (not field.group or field.group == ident.group)
        and (not field.version or field.version == ident.version)
    )


class _Visibility:
    """kustomize's ``SubsetThatCouldBeReferencedByResource``, as a test on one candidate."""

    def __init__(self, referrer: Tracked) -> None:
        self.me = referrer.current
        self.account_namespaces = (
            _subject_namespaces(referrer.obj) if self.me.kind == "RoleBinding" else set()
        )

    def sees(self, candidate: Tracked) -> bool:
        other = candidate.current
        return (
            self.me.cluster_scoped
            or other.cluster_scoped
            or other.effective_namespace == self.me.effective_namespace
            or other.namespace in self.account_namespaces
        )


def _subject_namespaces(obj: Mapping[str, Any]) -> set[str]:
    subjects = obj.get("subjects")
    return {
        subject["namespace"]
        for subject in (subjects if isinstance(subjects, list) else [])
        if isinstance(subject, Mapping)
        and subject.get("kind") == "ServiceAccount"
        and isinstance(subject.get("namespace"), str)
    }


Candidates = Callable[[Tracked], bool]


class _Fixer:
    """Rewrites the values found at one reference field of one referrer."""

    def __init__(
        self, ref: Reference, referrer: Tracked, index: _Index, visible: _Visibility
    ) -> None:
        self.ref = ref
        self.referrer = referrer
        self.index = index
        self.visible = visible

    def fix(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._scalar(value)
        if isinstance(value, Mapping):
            return self._mapping(value)
        if isinstance(value, list):
            return [self.fix(item) if isinstance(item, str | Mapping) else item for item in value]
        return value

    def _scalar(self, name: str) -> str:
        found = self._select(name, _anywhere, _same_name)
        return found.current.name if found is not None else name

    def _mapping(self, value: Mapping[str, Any]) -> Mapping[str, Any]:
        name = value.get("name")
        if not isinstance(name, str):
            return value
        if self.ref.field.path == "subjects" and value.get("kind") != "ServiceAccount":
            return value
        found = self._select(name, self._in_namespace(value), _same_name_and_namespace)
        if found is None:
            return value
        new = found.current
        if new.name == name and not new.namespace:
            return value
        result = {**value, "name": new.name}
        if new.namespace:
            result["namespace"] = new.namespace
        return result

    def _in_namespace(self, value: Mapping[str, Any]) -> Candidates:
        """Which candidates a ``{name, namespace}`` reference can name: those in its namespace
        as they were (if any visible object was there), else as they are now."""
        if "namespace" not in value:
            return _anywhere
        namespace = value.get("namespace")
        if not isinstance(namespace, str):
            return _nowhere
        before = self.index.by_original_namespace.get(namespace, [])
        if any(self.visible.sees(candidate) for candidate in before):
            return lambda candidate: candidate.original.effective_namespace == namespace
        return lambda candidate: candidate.current.effective_namespace == namespace

    def _select(
        self, name: str, allowed: Candidates, identical: Callable[[list[Tracked]], bool]
    ) -> Tracked | None:
        """kustomize's ``selectReferral``: the one object the reference names, if any."""
        found = [
            candidate
            for candidate in self.index.by_name.get(name, [])
            if self.visible.sees(candidate) and allowed(candidate) and self._names(candidate)
        ]
        if len(found) <= 1:
            return found[0] if found else None
        if identical(found):
            return found[0]
        listed = ", ".join(str(c.current) for c in found)
        raise PatchError(
            f"the reference {name!r} in {self.ref.field.path} could name several objects: " + listed
        )

    def _names(self, candidate: Tracked) -> bool:
        """The candidate was of the referenced kind and may be referred to from here."""
        if not any(self.ref.targets(ident) for ident in candidate.previous):
            return False
        return self._role_ref_allows(candidate) and self._namespace_allows(candidate)

    def _role_ref_allows(self, candidate: Tracked) -> bool:
        if not self.ref.field.path.endswith("roleRef/name"):
            return True
        role_ref = self.referrer.obj.get("roleRef")
        if not isinstance(role_ref, Mapping):
            return True
        group, kind = role_ref.get("apiGroup"), role_ref.get("kind")
        if not isinstance(group, str) or not isinstance(kind, str):
            return True
        return any(
            (not group or ident.group == group) and (not kind or ident.kind == kind)
            for ident in candidate.previous
        )

    def _namespace_allows(self, candidate: Tracked) -> bool:
        me, other = self.referrer.current, candidate.current
        if me.cluster_scoped or other.cluster_scoped or other.kind == "ServiceAccount":
            return True
        return me.effective_namespace == other.effective_namespace


def _anywhere(candidate: Tracked) -> bool:
    return True


def _nowhere(candidate: Tracked) -> bool:
    return False


def _same_name(found: list[Tracked]) -> bool:
    return len({c.current.name for c in found}) == 1


def _same_name_and_namespace(found: list[Tracked]) -> bool:
    return len({(c.current.name, c.current.namespace) for c in found}) == 1
