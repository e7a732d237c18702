"""The ``namespace`` transform: put every namespaced object into one namespace.

Why: an environment's ``namespace:`` must move objects exactly as kustomize's
NamespaceTransformer does, because users compare the two:

- ``metadata.namespace`` is set (replaced) on every object except built-in cluster-scoped
  kinds (``_ids.CLUSTER_SCOPED``); kinds it does not know - custom resources - get one;
- a ``v1`` ``Namespace`` object is renamed to the namespace;
- a ``RoleBinding``/``ClusterRoleBinding`` subject named ``default`` gets the namespace
  (kustomize's default ``setRoleBindingSubjects: defaultOnly``); subjects naming service
  accounts of the build are fixed later, with the other name references (``namerefs``);
- the webhook Service of a CRD conversion and of an ``APIService`` gets the namespace.

Deliberate differences from kustomize 5.5: the cluster-scoped table is current Kubernetes
(kustomize namespaces ``ValidatingAdmissionPolicy``, v1 ``FlowSchema`` and other kinds newer
than its schema); only ``ServiceAccount`` subjects are touched (kustomize also puts a
namespace on ``User``/``Group`` subjects named ``default``); and an ``APIService`` without
``spec.service`` (a local API) is left alone where kustomize adds a ``spec.service`` with only
a namespace, which the API server rejects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from engine.errors import PatchError
from engine.patch import _fieldspecs
from engine.patch._fieldspecs import MISSING, FieldSpec
from engine.patch._ids import ResId, metadata

__all__ = ["set_namespace"]

# A CRD's conversion webhook Service: its namespace is replaced when it has one.
CONVERSION_SERVICE: Final = FieldSpec(
    "spec/conversion/webhook/clientConfig/service/namespace",
    kind="CustomResourceDefinition",
    group="apiextensions.k8s.io",
)
BINDINGS: Final = ("RoleBinding", "ClusterRoleBinding")


def set_namespace(obj: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """``obj`` moved into ``namespace``; ``obj`` itself does not change."""
    result = dict(obj)
    ident = ResId.of(obj)
    if not ident.cluster_scoped:
        result["metadata"] = {**_meta(obj), "namespace": namespace}
    if ident.kind == "Namespace" and obj.get("apiVersion") == "v1":
        result["metadata"] = {**_meta(result), "name": namespace}
    result = _fieldspecs.update(result, CONVERSION_SERVICE, _setter(namespace), create=False)
    if ident.kind == "APIService" and ident.group == "apiregistration.k8s.io":
        result = _api_service(result, namespace)
    if ident.kind in BINDINGS:
        result = _default_subjects(result, namespace)
    return result


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if meta is not None and not isinstance(meta, Mapping):
        raise PatchError(f"metadata must be a map, got {type(meta).__name__}")
    return dict(metadata(obj))


def _setter(namespace: str) -> _fieldspecs.Leaf:
    def leaf(value: Any) -> Any:
        return value if value is MISSING else namespace

    return leaf


def _api_service(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """An APIService's Service gets the namespace (a local APIService has none)."""
    spec = obj.get("spec")
    service = spec.get("service") if isinstance(spec, Mapping) else None
    if not isinstance(spec, Mapping) or not isinstance(service, Mapping):
        return obj
    return {**obj, "spec": {**spec, "service": {**service, "namespace": namespace}}}


def _default_subjects(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    subjects = obj.get("subjects")
    if not isinstance(subjects, list):
        return obj
    fixed = [
        {**subject, "namespace": namespace} if _is_default_account(subject) else subject
        for subject in subjects
    ]
    return {**obj, "subjects": fixed}


def _is_default_account(subject: Any) -> bool:
    return (
        isinstance(subject, Mapping)
        and subject.get("name") == "default"
        and subject.get("kind") == "ServiceAccount"
    )
