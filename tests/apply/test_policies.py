"""KubeVela's apply-side policies, resolved per object."""

from __future__ import annotations

from engine.apply.policies import ObjectPolicy, policy_of, rules_for
from engine.model import load_documents, parse_application

APP = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: app}
spec:
  components:
  - {name: web, type: webservice, properties: {image: nginx}}
  policies:
  - name: adopt
    type: take-over
    properties:
      rules:
      - selector: {resourceTypes: [Deployment]}
  - name: keep
    type: garbage-collect
    properties:
      rules:
      - selector: {traitTypes: [gateway]}
        strategy: never
      - selector: {componentNames: [web]}
        propagation: orphan
  - name: once
    type: apply-once
    properties: {enable: true}
  - name: update
    type: resource-update
    properties:
      rules:
      - selector: {resourceNames: [web]}
        strategy: {op: replace, recreateFields: [spec.selector]}
"""


def obj(kind: str, name: str, labels: dict[str, str]) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "labels": labels}}


def test_rules_resolve_per_object() -> None:
    app = parse_application(load_documents(APP, "app.yaml")[0])
    rules = rules_for(app)
    deployment = obj(
        "Deployment",
        "web",
        {"app.oam.dev/component": "web", "app.oam.dev/resourceType": "WORKLOAD"},
    )
    service = obj(
        "Service", "svc", {"app.oam.dev/component": "api", "trait.oam.dev/type": "gateway"}
    )
    assert policy_of(rules, deployment) == ObjectPolicy(
        take_over=True,
        apply_once=True,
        orphan=True,
        update_op="replace",
        recreate_fields=("spec.selector",),
    )
    assert policy_of(rules, service) == ObjectPolicy(apply_once=True, gc_strategy="never")


def test_policy_round_trips_through_json() -> None:
    policy = ObjectPolicy(read_only=True, recreate_fields=("spec.selector",))
    assert ObjectPolicy.from_json(policy.to_json()) == policy
    assert ObjectPolicy().to_json() == {}
