"""The ref-objects component: offline it says what it would read; with a reader it renders."""

from __future__ import annotations

from typing import Any

from engine.build import build
from engine.definitions import Registry
from engine.model import load_documents, parse_application
from engine.model.refobjects import ObjectRef

APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: adopt, namespace: legacy}
spec:
  components:
    - name: legacy
      type: ref-objects
      properties:
        objects:
          - {resource: deployment, group: apps, name: legacy-web}
          - {resource: configmap, labelSelector: {app: legacy}, namespace: shared, cluster: edge}
        urls: [https://example.com/objects.yaml]
      traits:
        - type: labels
          properties: {team: shop}
"""


def test_offline_render_says_what_it_would_read(registry: Registry) -> None:
    app = parse_application(load_documents(APP, "app.yaml")[0])
    result = build(app, registry)
    assert result.manifests == ()
    assert result.warnings == (
        "app.yaml:6: spec.components[0]: component 'legacy' (ref-objects) is read from the "
        "cluster when applied: deployment.apps/legacy-web in namespace legacy; configmap "
        "labelled app=legacy in namespace shared of cluster edge; and the objects at 1 URL(s); "
        "render shows none of it",
    )


def test_with_a_reader_the_objects_read_are_the_workload_and_outputs(registry: Registry) -> None:
    asked: list[ObjectRef] = []
    live: dict[str, list[dict[str, Any]]] = {
        "deployment": [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "legacy-web", "namespace": "legacy"},
                "spec": {"replicas": 2},
            }
        ],
        "configmap": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}}
            for i in range(2)
        ],
    }

    def reader(ref: ObjectRef) -> list[dict[str, Any]]:
        asked.append(ref)
        return live[ref.resource]

    app = parse_application(load_documents(APP, "app.yaml")[0])
    result = build(app, registry, read_objects=reader)
    assert [r.describe() for r in asked] == [
        "deployment.apps/legacy-web in namespace legacy",
        "configmap labelled app=legacy in namespace shared of cluster edge",
    ]
    objs = [m.object for m in result.manifests]
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("Deployment", "legacy-web"),
        ("ConfigMap", "cm-0"),
        ("ConfigMap", "cm-1"),
    ]
    assert objs[0]["spec"] == {"replicas": 2}
    assert objs[0]["metadata"]["labels"]["team"] == "shop"
    assert objs[0]["metadata"]["labels"]["app.oam.dev/component"] == "legacy"
    assert objs[1]["metadata"]["labels"]["trait.oam.dev/resource"] == "objects-1"
