"""The ``labels`` / ``commonLabels`` and ``commonAnnotations`` transforms.

Why: labels an environment adds must land in exactly the fields kustomize's LabelTransformer
and AnnotationsTransformer write, because selectors are immutable on a live Deployment: a
label that reaches ``spec.selector`` in one tool and not in the other breaks the next apply.
The field tables below are kustomize v5.5's (``builtinpluginconsts``), unchanged:

- a ``labels`` entry always writes ``metadata.labels``; ``includeTemplates`` adds pod (and
  job, volume claim) templates; ``includeSelectors`` adds selectors *and* templates
  (kustomize's ``commonLabels`` is such an entry);
- selectors are created where kustomize creates them (Service ``spec.selector``,
  Deployment/ReplicaSet/DaemonSet/StatefulSet ``spec.selector.matchLabels``) and only
  updated where they already exist (Job, CronJob, PodDisruptionBudget, NetworkPolicy, pod
  affinity and topology spread selectors);
- ``commonAnnotations`` writes ``metadata.annotations`` and the same templates.

Kinds are matched by name (with kustomize's group or version where it gives one), so a
custom resource called ``Deployment`` is treated like one, as in kustomize.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from engine.errors import PatchError
from engine.model.environment import LabelSet
from engine.patch import _fieldspecs
from engine.patch._fieldspecs import MISSING, FieldSpec

__all__ = ["add_annotations", "add_labels", "field_specs"]

_F = FieldSpec
_AFFINITY: Final = tuple(
    f"spec/template/spec/affinity/{kind}/{term}/labelSelector/matchLabels"
    for kind in ("podAffinity", "podAntiAffinity")
    for term in (
        "preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm",
        "requiredDuringSchedulingIgnoredDuringExecution",
    )
)
_SPREAD: Final = "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels"


def _templates(field: str, statefulset_group: str) -> tuple[FieldSpec, ...]:
    """kustomize's template fields for labels or annotations (``field``)."""
    template = f"spec/template/metadata/{field}"
    return (
        _F(template, kind="ReplicationController", version="v1", create=True),
        _F(template, kind="Deployment", create=True),
        _F(template, kind="ReplicaSet", create=True),
        _F(template, kind="DaemonSet", create=True),
        _F(template, kind="StatefulSet", group=statefulset_group, create=True),
        _F(template, kind="Job", group="batch", create=True),
        _F(f"spec/jobTemplate/metadata/{field}", kind="CronJob", group="batch", create=True),
        _F(
            f"spec/jobTemplate/spec/template/metadata/{field}",
            kind="CronJob",
            group="batch",
            create=True,
        ),
    )


METADATA_LABELS: Final = (_F("metadata/labels", create=True),)

# kustomize's metadataLabelsFieldSpecs (== templateLabels).
TEMPLATE_LABELS: Final = (
    *METADATA_LABELS,
    *_templates("labels", "apps")[:5],
    _F(
        "spec/volumeClaimTemplates[]/metadata/labels", kind="StatefulSet", group="apps", create=True
    ),
    *_templates("labels", "apps")[5:],
)

# kustomize's commonLabels field specs: selectors, then the metadata label fields.
SELECTOR_LABELS: Final = (
    _F("spec/selector", kind="Service", version="v1", create=True),
    _F("spec/selector", kind="ReplicationController", version="v1", create=True),
    _F("spec/selector/matchLabels", kind="Deployment", create=True),
    *(_F(path, kind="Deployment", group="apps") for path in (*_AFFINITY, _SPREAD)),
    _F("spec/selector/matchLabels", kind="ReplicaSet", create=True),
    _F("spec/selector/matchLabels", kind="DaemonSet", create=True),
    _F("spec/selector/matchLabels", kind="StatefulSet", group="apps", create=True),
    *(_F(path, kind="StatefulSet", group="apps") for path in (*_AFFINITY, _SPREAD)),
    _F("spec/selector/matchLabels", kind="Job", group="batch"),
    _F("spec/jobTemplate/spec/selector/matchLabels", kind="CronJob", group="batch"),
    _F("spec/selector/matchLabels", kind="PodDisruptionBudget", group="policy"),
    _F("spec/podSelector/matchLabels", kind="NetworkPolicy", group="networking.k8s.io"),
    _F(
        "spec/ingress/from/podSelector/matchLabels", kind="NetworkPolicy", group="networking.k8s.io"
    ),
    _F("spec/egress/to/podSelector/matchLabels", kind="NetworkPolicy", group="networking.k8s.io"),
)
COMMON_LABELS: Final = (*SELECTOR_LABELS, *TEMPLATE_LABELS)

COMMON_ANNOTATIONS: Final = (
    _F("metadata/annotations", create=True),
    *_templates("annotations", ""),
)


def field_specs(label_set: LabelSet) -> tuple[FieldSpec, ...]:
    """Where a ``labels`` entry writes, as kustomize's LabelTransformer configurator decides."""
    if label_set.include_selectors:
        return COMMON_LABELS
    if label_set.include_templates:
        return TEMPLATE_LABELS
    return METADATA_LABELS


def add_labels(obj: Mapping[str, Any], label_set: LabelSet) -> Any:
    """``obj`` with the entry's labels written to its fields; ``obj`` does not change."""
    return _write(obj, label_set.pairs, field_specs(label_set), "label")


def add_annotations(obj: Mapping[str, Any], annotations: Mapping[str, str]) -> Any:
    """``obj`` with ``commonAnnotations`` written to its fields; ``obj`` does not change."""
    return _write(obj, annotations, COMMON_ANNOTATIONS, "annotation")


def _write(
    obj: Mapping[str, Any], pairs: Mapping[str, str], specs: tuple[FieldSpec, ...], what: str
) -> Any:
    if not pairs:
        return obj
    _check_pairs(pairs, what)
    added = {key: pairs[key] for key in sorted(pairs)}
    result: Any = obj
    for spec in specs:
        result = _fieldspecs.update(result, spec, _adder(added, spec.path))
    return result


def _adder(added: Mapping[str, str], path: str) -> _fieldspecs.Leaf:
    def leaf(value: Any) -> Any:
        if value is MISSING:
            return dict(added)
        if not isinstance(value, Mapping):
            raise PatchError(f"{path}: expected a map, got {type(value).__name__}")
        return {**value, **added}

    return leaf


def _check_pairs(pairs: Mapping[str, str], what: str) -> None:
    for key, value in pairs.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise PatchError(f"{what} {key!r}: {value!r}: keys and values must be strings")
