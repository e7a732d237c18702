"""Environments from KubeVela policies and workflows: steps, generation, env-binding."""

from __future__ import annotations

import pytest

from engine.errors import BuildError, SchemaError
from engine.model import load_documents, parse_application
from engine.model.environment import Placement
from engine.model.policies import environments

HEAD = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: app}
spec:
  components:
    - {name: web, type: webservice, properties: {image: nginx}}
"""


def envs(tail: str):  # type: ignore[no-untyped-def]
    return environments(parse_application(load_documents(HEAD + tail, "app.yaml")[0]))


def test_no_policies_no_environments() -> None:
    assert envs("") == ()


def test_deploy_steps_name_environments_after_their_topology() -> None:
    result = envs(
        "  policies:\n"
        "    - {name: staging, type: topology, properties: {clusters: [local], namespace: stg}}\n"
        "    - {name: prod, type: topology, properties: {clusters: [c1, c2], namespace: prod}}\n"
        "    - {name: ha, type: override, properties: {components: [{type: webservice}]}}\n"
        "  workflow:\n    steps:\n"
        "      - {name: deploy-staging, type: deploy, properties: {policies: [staging]}}\n"
        "      - {name: approve, type: suspend}\n"
        "      - {name: deploy-prod, type: deploy, properties: {policies: [prod, ha]}}\n"
    )
    staging, prod = result
    assert (staging.name, staging.aliases) == ("staging", ("deploy-staging",))
    assert staging.placements == (Placement("local", "stg"),)
    assert staging.overrides == ()
    assert prod.placements == (Placement("c1", "prod"), Placement("c2", "prod"))
    assert [o.name for o in prod.overrides] == ["ha"]
    assert prod.answers_to("deploy-prod") and prod.answers_to("prod")


def test_default_workflow_is_one_step_per_topology_with_every_override() -> None:
    result = envs(
        "  policies:\n"
        "    - {name: o1, type: override, properties: {components: []}}\n"
        "    - {name: a, type: topology, properties: {namespace: a}}\n"
        "    - {name: b, type: topology, properties: {clusterLabelSelector: {region: eu}}}\n"
        "    - {name: o2, type: override, properties: {selector: [web]}}\n"
    )
    assert [(e.name, e.aliases) for e in result] == [("a", ("deploy-a",)), ("b", ("deploy-b",))]
    assert [o.name for o in result[0].overrides] == ["o1", "o2"]
    assert result[1].placements == (Placement("clusters with labels region=eu", ""),)


def test_overrides_alone_make_one_deploy_environment() -> None:
    (env,) = envs("  policies:\n    - {name: o, type: override, properties: {components: []}}\n")
    assert env.name == "deploy" and env.placements == (Placement(),)


def test_a_step_with_several_topologies_is_named_after_the_step() -> None:
    (env,) = envs(
        "  policies:\n"
        "    - {name: a, type: topology, properties: {namespace: a}}\n"
        "    - {name: b, type: topology, properties: {namespace: b}}\n"
        "  workflow:\n    steps:\n"
        "      - {name: everywhere, type: deploy, properties: {policies: [a, b]}}\n"
    )
    assert env.name == "everywhere"
    assert env.placements == (Placement("local", "a"), Placement("local", "b"))


def test_legacy_env_binding_becomes_one_environment_per_env() -> None:
    result = envs(
        "  policies:\n"
        "    - name: eb\n      type: env-binding\n      properties:\n        envs:\n"
        "          - name: test\n"
        "            placement: {namespaceSelector: {name: test-ns}}\n"
        "            patch: {components: [{name: web, properties: {image: nginx:2}}]}\n"
        "          - name: prod\n"
        "            placement: {clusterSelector: {name: prod-cluster}}\n"
        "            selector: {components: [web]}\n"
    )
    assert [(e.name, e.aliases) for e in result] == [
        ("test", ("deploy-eb-test",)),
        ("prod", ("deploy-eb-prod",)),
    ]
    assert result[0].placements == (Placement("local", "test-ns"),)
    assert result[1].placements == (Placement("prod-cluster", ""),)
    assert result[1].overrides[0].selector == ("web",)


def test_steps_deploying_one_topology_are_named_after_their_steps() -> None:
    result = envs(
        "  policies:\n"
        "    - {name: local, type: topology, properties: {clusters: [local]}}\n"
        "    - {name: big, type: override, properties: {components: [{name: web}]}}\n"
        "    - {name: small, type: override, properties: {components: [{name: web}]}}\n"
        "    - {name: prod, type: topology, properties: {namespace: prod}}\n"
        "  workflow:\n    steps:\n"
        "      - {name: deploy-big, type: deploy, properties: {policies: [local, big]}}\n"
        "      - {name: deploy-small, type: deploy, properties: {policies: [local, small]}}\n"
        "      - {name: deploy-prod, type: deploy, properties: {policies: [prod]}}\n"
    )
    assert [(e.name, e.aliases, [o.name for o in e.overrides]) for e in result] == [
        ("deploy-big", (), ["big"]),
        ("deploy-small", (), ["small"]),
        ("prod", ("deploy-prod",), []),
    ]
    assert result[0].placements == result[1].placements == (Placement("local", ""),)


def test_a_deploy2env_step_deploys_one_env_of_an_env_binding() -> None:
    result = envs(
        "  policies:\n"
        "    - name: eb\n      type: env-binding\n      properties:\n        envs:\n"
        "          - {name: staging, placement: {namespaceSelector: {name: stg}}}\n"
        "          - {name: prod, placement: {namespaceSelector: {name: prd}}}\n"
        "  workflow:\n    steps:\n"
        "      - {name: s1, type: deploy2env, properties: {policy: eb, env: staging}}\n"
    )
    assert [(e.name, e.aliases) for e in result] == [("staging", ("s1",))]
    assert result[0].placements == (Placement("local", "stg"),)
    assert [o.name for o in result[0].overrides] == ["eb/staging"]


DEPLOY2ENV = (
    "  policies:\n"
    "    - {name: eb, type: env-binding, properties: {envs: [{name: staging}]}}\n"
    "    - {name: t, type: topology}\n"
    "  workflow:\n    steps:\n"
)


@pytest.mark.parametrize(
    ("tail", "error", "message"),
    [
        (
            "  policies:\n    - {name: p, type: topolgy}\n",
            BuildError,
            "app.yaml:8: spec.policies[0].type: unknown policy type 'topolgy'; did you mean "
            "'topology'?",
        ),
        (
            "  policies:\n    - {name: p, type: topology, properties: {namespce: x}}\n",
            SchemaError,
            "app.yaml:8: spec.policies[0].properties.namespce: unknown property 'namespce'; "
            "did you mean 'namespace'?",
        ),
        (
            "  policies:\n    - {name: p, type: topology}\n  workflow:\n    steps:\n"
            "      - {name: d, type: deploy, properties: {policies: [q]}}\n",
            BuildError,
            "app.yaml:11: spec.workflow.steps[0].properties.policies[0]: deploy step 'd' names "
            "unknown policy 'q'",
        ),
        (
            DEPLOY2ENV + "      - {name: d, type: deploy2env, properties: {policy: eb}}\n",
            SchemaError,
            "app.yaml:12: spec.workflow.steps[0].properties: missing required property 'env' (step d)",
        ),
        (
            DEPLOY2ENV
            + "      - {name: d, type: deploy2env, properties: {policy: ebb, env: staging}}\n",
            BuildError,
            "app.yaml:12: spec.workflow.steps[0].properties.policy: deploy2env step 'd' names "
            "unknown policy 'ebb'; did you mean 'eb'?",
        ),
        (
            DEPLOY2ENV + "      - {name: d, type: deploy2env, properties: {policy: t, env: x}}\n",
            BuildError,
            "app.yaml:12: spec.workflow.steps[0].properties.policy: deploy2env step 'd' names "
            "policy 't' of type 'topology'; it deploys an env of an env-binding policy",
        ),
        (
            DEPLOY2ENV
            + "      - {name: d, type: deploy2env, properties: {policy: eb, env: stagin}}\n",
            BuildError,
            "app.yaml:12: spec.workflow.steps[0].properties.env: deploy2env step 'd' names env "
            "'stagin', which policy 'eb' does not have; did you mean 'staging'?",
        ),
    ],
)
def test_policy_errors_are_located(tail: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        envs(tail)
    assert str(info.value).startswith(message)
