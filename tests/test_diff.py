"""Diffing builds object by object: actions, unified diffs, Secret masking, formats."""

from __future__ import annotations

import json
from typing import Any

import yaml

from engine.diff import (
    EnvironmentDiff,
    Report,
    Summary,
    diff_environments,
    diff_manifests,
    format_json,
    format_markdown,
    format_text,
    mask_secrets,
    select_environments,
)
from engine.model import Manifest


def manifests(text: str, cluster: str = "") -> list[Manifest]:
    """Plain manifests from a YAML stream."""
    return [Manifest(obj, "test", cluster=cluster) for obj in yaml.safe_load_all(text) if obj]


def one_env(old: str, new: str) -> Report:
    found = diff_manifests(manifests(old), manifests(new))
    return Report("old", "new", (EnvironmentDiff("prod", "prod", found),))


DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: web, image: "web:1"}]
"""
SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: prod}
spec:
  ports: [{port: 80}]
"""
CONFIG = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: prod}
data: {mode: fast}
"""
SECRET = """
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: prod}
type: Opaque
data:
  password: c2VjcmV0LW9uZQ==
  user: YWRtaW4=
stringData:
  token: plain-token-one
"""


def test_changed_object_gets_a_unified_diff_of_its_yaml() -> None:
    new = DEPLOY.replace("replicas: 1", "replicas: 3")
    found = diff_manifests(manifests(DEPLOY), manifests(new))
    assert found.summary == Summary(added=0, changed=1, removed=0, unchanged=0)
    (entry,) = found.objects
    assert entry.action == "changed"
    assert entry.label == "Deployment/prod/web"
    assert entry.diff == (
        "--- a/Deployment/prod/web\n"
        "+++ b/Deployment/prod/web\n"
        "@@ -4,7 +4,7 @@\n"
        "   name: web\n"
        "   namespace: prod\n"
        " spec:\n"
        "-  replicas: 1\n"
        "+  replicas: 3\n"
        "   template:\n"
        "     spec:\n"
        "       containers:\n"
    )


def test_added_and_removed_objects_diff_against_dev_null() -> None:
    found = diff_manifests(manifests(DEPLOY + "---" + CONFIG), manifests(DEPLOY + "---" + SERVICE))
    assert [(o.action, o.label) for o in found.objects] == [
        ("added", "Service/prod/web"),
        ("removed", "ConfigMap/prod/settings"),
    ]
    added, removed = found.objects
    assert added.diff.startswith("--- /dev/null\n+++ b/Service/prod/web\n@@ -0,0 +1,8 @@\n")
    assert "+kind: Service\n" in added.diff
    assert removed.diff.startswith(
        "--- a/ConfigMap/prod/settings\n+++ /dev/null\n@@ -1,7 +0,0 @@\n"
    )
    assert found.summary == Summary(added=1, changed=0, removed=1, unchanged=1)


def test_unchanged_objects_are_omitted_and_key_order_does_not_matter() -> None:
    reordered = """
kind: Deployment
apiVersion: apps/v1
spec:
  template:
    spec:
      containers: [{image: "web:1", name: web}]
  replicas: 1
metadata: {namespace: prod, name: web}
"""
    found = diff_manifests(manifests(DEPLOY), manifests(reordered))
    assert found.objects == ()
    assert found.summary == Summary(unchanged=1)
    assert not found.differs


def test_a_value_of_another_type_is_a_change() -> None:
    old = CONFIG.replace("{mode: fast}", "{enabled: 1}")
    new = CONFIG.replace("{mode: fast}", "{enabled: true}")
    (entry,) = diff_manifests(manifests(old), manifests(new)).objects
    assert "-  enabled: 1\n+  enabled: true\n" in entry.diff


def test_order_follows_the_new_build_then_removed_objects() -> None:
    old = manifests(CONFIG + "---" + SERVICE + "---" + DEPLOY)
    new = manifests(
        SERVICE.replace("80", "81")
        + "---"
        + DEPLOY.replace("web:1", "web:2")
        + "---"
        + CONFIG.replace("settings", "other")
    )
    labels = [o.label for o in diff_manifests(old, new).objects]
    assert labels == [
        "Service/prod/web",
        "Deployment/prod/web",
        "ConfigMap/prod/other",
        "ConfigMap/prod/settings",
    ]


def test_the_output_is_deterministic() -> None:
    old, new = DEPLOY + "---" + SECRET, DEPLOY.replace("web:1", "web:2") + "---" + SERVICE
    first = one_env(old, new)
    second = one_env(old, new)
    assert first == second
    for fmt in (format_text, format_json, format_markdown):
        assert fmt(first) == fmt(second)


def test_objects_match_by_cluster_and_identity_ignoring_the_version() -> None:
    old = manifests(DEPLOY, cluster="") + manifests(DEPLOY, cluster="eu")
    new = manifests(DEPLOY.replace("apps/v1", "apps/v2"), cluster="local")
    found = diff_manifests(old, new)
    assert [(o.action, o.label) for o in found.objects] == [
        ("changed", "Deployment/prod/web"),
        ("removed", "Deployment/prod/web@eu"),
    ]
    assert "-apiVersion: apps/v1\n+apiVersion: apps/v2\n" in found.objects[0].diff
    assert found.objects[1].diff.startswith("--- a/Deployment/prod/web@eu\n+++ /dev/null\n")


def test_moved_objects_pair_up_only_when_asked_and_unambiguous() -> None:
    staging = DEPLOY.replace("prod", "staging") + "---" + SERVICE.replace("prod", "staging")
    prod = DEPLOY.replace("replicas: 1", "replicas: 2") + "---" + SERVICE
    plain = diff_manifests(manifests(staging), manifests(prod))
    assert plain.summary == Summary(added=2, removed=2)
    moved = diff_manifests(manifests(staging), manifests(prod), match_moved=True)
    assert moved.summary == Summary(changed=2)
    deploy = moved.objects[0]
    assert (deploy.label, deploy.old_label) == ("Deployment/prod/web", "Deployment/staging/web")
    assert deploy.diff.startswith("--- a/Deployment/staging/web\n+++ b/Deployment/prod/web\n")
    assert "-  namespace: staging\n+  namespace: prod\n" in deploy.diff
    assert "-  replicas: 1\n+  replicas: 2\n" in deploy.diff
    two = manifests(DEPLOY.replace("prod", "a") + "---" + DEPLOY.replace("prod", "b"))
    ambiguous = diff_manifests(two, manifests(DEPLOY), match_moved=True)
    assert ambiguous.summary == Summary(added=1, removed=2)


# -- Secrets ---------------------------------------------------------------------------


def test_secret_values_are_masked_like_kubectl_diff() -> None:
    changed = SECRET.replace("c2VjcmV0LW9uZQ==", "c2VjcmV0LXR3bw==").replace(
        "user: YWRtaW4=", "user: YWRtaW4=\n  extra: bmV3"
    )
    (entry,) = diff_manifests(manifests(SECRET), manifests(changed)).objects
    assert entry.diff == (
        "--- a/Secret/prod/db\n"
        "+++ b/Secret/prod/db\n"
        "@@ -5,7 +5,8 @@\n"
        "   namespace: prod\n"
        " type: Opaque\n"
        " data:\n"
        "-  password: '*** (before)'\n"
        "+  password: '*** (after)'\n"
        "   user: '***'\n"
        "+  extra: '***'\n"
        " stringData:\n"
        "   token: '***'\n"
    )


def test_no_secret_value_shows_in_any_format() -> None:
    values = ["c2VjcmV0LW9uZQ==", "YWRtaW4=", "plain-token-one", "plain-token-two"]
    new = SECRET.replace("plain-token-one", "plain-token-two")
    for report in (one_env(SECRET, new), one_env("", SECRET), one_env(SECRET, "")):
        assert report.differs
        for text in (format_text(report), format_json(report), format_markdown(report)):
            assert not [v for v in values if v in text]
    (entry,) = one_env(SECRET, new).environments[0].diff.objects
    assert "-  token: '*** (before)'\n+  token: '*** (after)'\n" in entry.diff


def test_an_unchanged_secret_is_unchanged_and_masking_copies() -> None:
    old, new = manifests(SECRET), manifests(SECRET)
    assert diff_manifests(old, new).summary == Summary(unchanged=1)
    masked, _ = mask_secrets(old[0].object, None)
    assert masked["data"] == {"password": "***", "user": "***"}
    assert old[0].object["data"]["password"] == "c2VjcmV0LW9uZQ=="
    config = manifests(CONFIG)[0].object
    assert mask_secrets(config, config) == (config, config)


# -- environments ----------------------------------------------------------------------


def by_env(**envs: str) -> dict[str, list[Manifest]]:
    return {name.replace("_", "-"): manifests(text) for name, text in envs.items()}


def test_environments_are_diffed_by_name() -> None:
    old = by_env(staging=DEPLOY, prod=DEPLOY, qa=SERVICE)
    new = by_env(staging=DEPLOY, prod=DEPLOY.replace("web:1", "web:2"), dev=CONFIG)
    envs = diff_environments(old, new)
    assert [(e.title, str(e.diff.summary)) for e in envs] == [
        ("staging", "0 added, 0 changed, 0 removed, 1 unchanged"),
        ("prod", "0 added, 1 changed, 0 removed, 0 unchanged"),
        ("dev (new environment)", "1 added, 0 changed, 0 removed, 0 unchanged"),
        ("qa (environment removed)", "0 added, 0 changed, 1 removed, 0 unchanged"),
    ]


def test_introducing_environments_compares_each_with_the_build_without() -> None:
    envs = diff_environments(
        {"": manifests(DEPLOY)}, by_env(staging=DEPLOY, prod=DEPLOY.replace("web:1", "web:2"))
    )
    assert [(e.old, e.new, e.title, e.diff.differs) for e in envs] == [
        ("", "staging", "(no environments) → staging", False),
        ("", "prod", "(no environments) → prod", True),
    ]
    back = diff_environments(by_env(prod=DEPLOY), {"": manifests(DEPLOY)})
    assert [(e.old, e.new, e.title) for e in back] == [("prod", "", "prod → (no environments)")]


def test_a_side_that_builds_nothing_has_no_environments() -> None:
    envs = diff_environments({"": []}, by_env(prod=DEPLOY))
    assert [(e.old, e.new, e.title) for e in envs] == [(None, "prod", "prod (new environment)")]
    envs = diff_environments(by_env(prod=DEPLOY), {"": []})
    assert [(e.old, e.new, e.title) for e in envs] == [("prod", None, "prod (environment removed)")]
    (both,) = diff_environments({"": []}, {"": manifests(DEPLOY)})
    assert (both.title, str(both.diff.summary)) == (
        "(no environments)",
        "1 added, 0 changed, 0 removed, 0 unchanged",
    )


def test_select_environments_keeps_the_named_ones() -> None:
    report = Report("a", "b", diff_environments(by_env(x=DEPLOY, y=DEPLOY), by_env(x=DEPLOY)))
    assert [e.title for e in select_environments(report, ["y"]).environments] == [
        "y (environment removed)"
    ]


# -- formats ---------------------------------------------------------------------------


def sample() -> Report:
    old = by_env(staging=DEPLOY, prod=DEPLOY + "---" + CONFIG)
    new = by_env(staging=DEPLOY, prod=DEPLOY.replace("replicas: 1", "replicas: 2"))
    return Report("main", "working tree", diff_environments(old, new))


def test_text_format() -> None:
    assert format_text(sample()) == (
        "diff main → working tree\n"
        "\n"
        "# Environment: staging\n"
        "staging: no differences (1 unchanged)\n"
        "\n"
        "# Environment: prod\n"
        "changed: Deployment/prod/web\n"
        "--- a/Deployment/prod/web\n"
        "+++ b/Deployment/prod/web\n"
        "@@ -4,7 +4,7 @@\n"
        "   name: web\n"
        "   namespace: prod\n"
        " spec:\n"
        "-  replicas: 1\n"
        "+  replicas: 2\n"
        "   template:\n"
        "     spec:\n"
        "       containers:\n"
        "removed: ConfigMap/prod/settings\n"
        "--- a/ConfigMap/prod/settings\n"
        "+++ /dev/null\n"
        "@@ -1,7 +0,0 @@\n"
        "-apiVersion: v1\n"
        "-kind: ConfigMap\n"
        "-metadata:\n"
        "-  name: settings\n"
        "-  namespace: prod\n"
        "-data:\n"
        "-  mode: fast\n"
        "prod: 0 added, 1 changed, 1 removed, 0 unchanged\n"
        "\n"
        "0 added, 1 changed, 1 removed, 1 unchanged in 2 environments\n"
    )


def test_text_colors_only_when_asked() -> None:
    plain, colored = format_text(sample()), format_text(sample(), color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31m-  replicas: 1\x1b[0m\n" in colored
    assert "\x1b[32m+  replicas: 2\x1b[0m\n" in colored
    assert "\x1b[36m@@ -4,7 +4,7 @@\x1b[0m\n" in colored
    assert "\x1b[1m--- a/Deployment/prod/web\x1b[0m\n" in colored


def test_no_differences_text() -> None:
    report = Report("a", "b", diff_environments(by_env(x=DEPLOY), by_env(x=DEPLOY)))
    assert format_text(report).endswith(
        "x: no differences (1 unchanged)\n\nno differences in 1 environment\n"
    )


def test_json_format() -> None:
    body: dict[str, Any] = json.loads(format_json(sample()))
    assert body["old"] == "main"
    assert body["new"] == "working tree"
    assert body["differs"] is True
    assert body["summary"] == {"added": 0, "changed": 1, "removed": 1, "unchanged": 1}
    staging, prod = body["environments"]
    assert staging == {
        "name": "staging",
        "old": "staging",
        "new": "staging",
        "differs": False,
        "summary": {"added": 0, "changed": 0, "removed": 0, "unchanged": 1},
        "objects": [],
    }
    changed, removed = prod["objects"]
    assert changed["action"] == "changed"
    assert changed["id"] == "Deployment/prod/web"
    assert changed["new"] == {
        "cluster": "local",
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "namespace": "prod",
        "name": "web",
    }
    assert changed["diff"].startswith("--- a/Deployment/prod/web\n")
    assert (removed["action"], removed["new"], removed["old"]["kind"]) == (
        "removed",
        None,
        "ConfigMap",
    )


def test_markdown_format() -> None:
    text = format_markdown(sample())
    assert text.startswith(
        "## sailplan diff: `main` → `working tree`\n\n"
        "0 added, 1 changed, 1 removed, 1 unchanged in 2 environments\n"
    )
    assert "\n### `staging`\n\nno differences (1 unchanged)\n" in text
    assert "\n### `prod`\n\n0 added, 1 changed, 1 removed, 0 unchanged\n" in text
    assert (
        "<details>\n<summary>changed: <code>Deployment/prod/web</code></summary>\n\n"
        "```diff\n--- a/Deployment/prod/web\n+++ b/Deployment/prod/web\n"
    ) in text
    assert "-  replicas: 1\n+  replicas: 2\n" in text
    assert text.count("<details>") == text.count("</details>") == 2
    assert text.endswith("```\n\n</details>\n")


def test_markdown_fences_survive_backticks_in_values() -> None:
    new = CONFIG.replace("{mode: fast}", "{script: 'echo ```x```'}")
    text = format_markdown(one_env(CONFIG, new))
    assert "\n````diff\n" in text
    assert text.endswith("````\n\n</details>\n")
