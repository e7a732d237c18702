"""Environments: where and how one Application is delivered.

An environment comes from either source and both become the same value:

- KubeVela policies: a ``deploy`` workflow step (or a generated one) naming
  ``topology`` policies (placements: cluster and forced namespace) and ``override``
  policies (component patches);
- an overlay file, ``kind: Environment`` (``apiVersion: sailplan.dev/v1alpha1``), which
  speaks kustomize's field names so a kustomize overlay converts by renaming its kind.

Overrides change components before rendering; the overlay's transforms and patches
change the rendered manifests after.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from engine.errors import SourceLocation
from engine.model.documents import Source
from engine.model.paths import YamlPath

LOCAL_CLUSTER = "local"


@dataclasses.dataclass(frozen=True)
class Placement:
    """One target of an environment: a cluster, and a namespace forced on every object."""

    cluster: str = LOCAL_CLUSTER
    namespace: str = ""  # empty: keep each object's namespace


@dataclasses.dataclass(frozen=True)
class TraitPatch:
    """An override of one trait, matched by type."""

    type: str
    properties: Mapping[str, Any] | None = None
    disable: bool = False
    path: YamlPath = ()


@dataclasses.dataclass(frozen=True)
class ComponentPatch:
    """An override of components: ``name`` is an unanchored regular expression."""

    name: str = ""
    type: str = ""
    properties: Mapping[str, Any] | None = None
    traits: tuple[TraitPatch, ...] = ()
    external_revision: str = ""
    path: YamlPath = ()
    source: Source | None = None


@dataclasses.dataclass(frozen=True)
class Override:
    """One override policy: component patches in order, then an optional selector."""

    name: str
    components: tuple[ComponentPatch, ...]
    selector: tuple[str, ...] | None = None
    location: SourceLocation | None = None


@dataclasses.dataclass(frozen=True)
class Target:
    """Which objects a patch applies to; every field is a regular expression (anchored)."""

    group: str | None = None
    version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    label_selector: str | None = None
    annotation_selector: str | None = None


@dataclasses.dataclass(frozen=True)
class Patch:
    """A kustomize ``patches`` entry: a strategic merge patch or a JSON patch, and a target.

    ``body`` is the parsed patch: a mapping (strategic merge, possibly naming its own
    target through apiVersion/kind/metadata) or a list of JSON patch operations.
    """

    body: Any
    target: Target | None = None
    location: SourceLocation | None = None


@dataclasses.dataclass(frozen=True)
class Image:
    """A kustomize ``images`` entry."""

    name: str
    new_name: str | None = None
    new_tag: str | None = None
    digest: str | None = None


@dataclasses.dataclass(frozen=True)
class Replicas:
    """A kustomize ``replicas`` entry."""

    name: str
    count: int


@dataclasses.dataclass(frozen=True)
class LabelSet:
    """A kustomize ``labels`` entry (``commonLabels`` is one with selectors included)."""

    pairs: Mapping[str, str]
    include_selectors: bool = False
    include_templates: bool = False


@dataclasses.dataclass(frozen=True)
class Overlay:
    """The kustomize-style transforms of an environment, applied after rendering.

    Order, as kustomize v5.5 applies them: ``patches_strategic_merge``, ``patches``,
    namespace, name prefix, name suffix, labels, annotations, ``patches_json6902``,
    replicas, images. The two older patch fields are kustomize's deprecated
    ``patchesStrategicMerge`` and ``patchesJson6902``, kept apart for their place in it.
    """

    namespace: str | None = None
    name_prefix: str = ""
    name_suffix: str = ""
    labels: tuple[LabelSet, ...] = ()
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)
    images: tuple[Image, ...] = ()
    replicas: tuple[Replicas, ...] = ()
    patches: tuple[Patch, ...] = ()
    patches_strategic_merge: tuple[Patch, ...] = ()
    patches_json6902: tuple[Patch, ...] = ()

    def is_empty(self) -> bool:
        return self == Overlay()


@dataclasses.dataclass(frozen=True)
class Environment:
    """A named delivery target of one Application."""

    name: str
    placements: tuple[Placement, ...] = (Placement(),)
    overrides: tuple[Override, ...] = ()
    overlay: Overlay = Overlay()
    aliases: tuple[str, ...] = ()
    source: str = ""

    def answers_to(self, name: str) -> bool:
        """Whether ``--env name`` selects this environment."""
        return name == self.name or name in self.aliases
