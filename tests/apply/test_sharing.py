"""The shared-by list, the garbage-collect order, and app-wide garbage-collect settings."""

from __future__ import annotations

from engine.apply.deploy import _delete_groups
from engine.apply.policies import ObjectPolicy, policy_of, rules_for
from engine.apply.releases import Entry
from engine.apply.sharing import add_sharer, first_sharer, remove_sharer, sharers
from engine.model import load_documents, parse_application


def test_shared_by_keeps_the_join_order_and_no_duplicates() -> None:
    assert add_sharer("", "ns/a") == "ns/a"
    assert add_sharer("ns/a", "ns/b") == "ns/a,ns/b"
    assert add_sharer("ns/a,ns/b", "ns/a") == "ns/a,ns/b"
    # Hand-written lists may hold empty entries and spaces.
    assert sharers(" ns/a,,ns/b ,") == ["ns/a", "ns/b"]
    assert remove_sharer("ns/a,ns/b,ns/c", "ns/b") == "ns/a,ns/c"
    assert remove_sharer("ns/a", "ns/a") == ""
    assert first_sharer(",ns/b,ns/c") == "ns/b"
    assert first_sharer("") == ""


def entry(name: str, component: str, kind: str = "ConfigMap", ordered: bool = True) -> Entry:
    policy = ObjectPolicy(gc_order="dependency" if ordered else "").to_json()
    return Entry("v1", kind, "ns", name, component=component, policy=policy)


def names(groups: list[list[Entry]]) -> list[set[str]]:
    return [{e.name for e in group} for group in groups]


def test_dependency_order_deletes_dependents_first() -> None:
    entries = [entry("db", "db"), entry("cache", "cache"), entry("web", "web"), entry("ui", "ui")]
    depends = {"web": ["db", "cache"], "ui": ["web"], "cache": ["db"]}
    assert names(_delete_groups(entries, depends)) == [{"ui"}, {"web"}, {"cache"}, {"db"}]
    # Components that do not depend on each other go together.
    assert names(_delete_groups(entries[:2] + entries[3:], {})) == [{"db", "cache", "ui"}]


def test_without_the_policy_one_group_in_kind_order() -> None:
    entries = [
        entry("ns", "a", kind="Namespace", ordered=False),
        entry("conf", "a", ordered=False),
        entry("web", "b", ordered=False),
    ]
    groups = _delete_groups(entries, {"b": ["a"]})
    assert len(groups) == 1 and groups[0][-1].name == "ns"


def test_a_dependency_cycle_is_deleted_together() -> None:
    entries = [entry("a", "a"), entry("b", "b")]
    assert names(_delete_groups(entries, {"a": ["b"], "b": ["a"]})) == [{"a", "b"}]


APP = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: app}
spec:
  components:
  - {name: web, type: webservice, properties: {image: nginx}}
  policies:
  - name: gc
    type: garbage-collect
    properties:
      order: dependency
      keepLegacyResource: true
      rules:
      - selector: {componentNames: [other]}
        strategy: never
  - name: share
    type: shared-resource
    properties: {rules: [{selector: {resourceTypes: [ConfigMap]}}]}
"""


def test_order_and_keep_legacy_cover_objects_no_rule_selects() -> None:
    app = parse_application(load_documents(APP, "app.yaml")[0])
    rules = rules_for(app)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app.oam.dev/component": "web"}},
    }
    found = policy_of(rules, deployment)
    assert found.gc_order == "dependency" and found.keep_legacy
    assert found.gc_strategy == "onAppUpdate" and not found.shared
    conf = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert policy_of(rules, conf).shared
