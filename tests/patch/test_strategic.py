"""Strategic merge patch: YAML in, YAML out.

Each case is one YAML document with ``base``, ``patch`` and ``expected``; the base's
apiVersion/kind choose the schema. Order in ``expected`` matters (lists are compared as
lists).
"""

from __future__ import annotations

import copy
import textwrap
from typing import Any

import pytest
import yaml

from engine.errors import PatchError
from engine.patch.strategic import deletes_object, strategic_merge


def y(text: str) -> Any:
    return yaml.safe_load(textwrap.dedent(text))


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
"""

CASES: dict[str, str] = {
    "containers merge by name, env by name, order kept, new appended": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          metadata: {name: web}
          spec:
            template:
              spec:
                containers:
                - name: app
                  image: app:1
                  env:
                  - {name: A, value: "1"}
                  - {name: B, value: "2"}
                - name: sidecar
                  image: side:1
        patch:
          spec:
            template:
              spec:
                containers:
                - name: sidecar
                  image: side:2
                - name: app
                  env:
                  - {name: C, value: "3"}
                  - {name: A, value: "11"}
                - name: extra
                  image: extra:1
        expected:
          apiVersion: apps/v1
          kind: Deployment
          metadata: {name: web}
          spec:
            template:
              spec:
                containers:
                - name: app
                  image: app:1
                  env:
                  - {name: A, value: "11"}
                  - {name: B, value: "2"}
                  - {name: C, value: "3"}
                - name: sidecar
                  image: side:2
                - name: extra
                  image: extra:1
    """,
    "volumeMounts by mountPath, volumes by name": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - name: app
                  volumeMounts:
                  - {name: data, mountPath: /data}
                  - {name: cache, mountPath: /cache}
                volumes:
                - {name: data, emptyDir: {}}
                - {name: cache, emptyDir: {}}
        patch:
          spec:
            template:
              spec:
                containers:
                - name: app
                  volumeMounts:
                  - {name: data2, mountPath: /data, readOnly: true}
                volumes:
                - name: cache
                  emptyDir: {medium: Memory}
                - name: data2
                  secret: {secretName: s}
        expected:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - name: app
                  volumeMounts:
                  - {name: data2, mountPath: /data, readOnly: true}
                  - {name: cache, mountPath: /cache}
                volumes:
                - {name: data, emptyDir: {}}
                - {name: cache, emptyDir: {medium: Memory}}
                - {name: data2, secret: {secretName: s}}
    """,
    "container ports by containerPort + protocol, TCP by default": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - name: app
                  ports:
                  - {containerPort: 53, protocol: UDP, name: dns}
                  - {containerPort: 53, protocol: TCP, name: dnstcp}
                  - {containerPort: 80}
        patch:
          spec:
            template:
              spec:
                containers:
                - name: app
                  ports:
                  - {containerPort: 53, hostPort: 1053}
                  - {containerPort: 80, protocol: TCP, name: http}
                  - {containerPort: 53, protocol: UDP, hostPort: 2053}
                  - {containerPort: 9090, name: metrics}
        expected:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - name: app
                  ports:
                  - {containerPort: 53, protocol: UDP, name: dns, hostPort: 2053}
                  - {containerPort: 53, protocol: TCP, name: dnstcp, hostPort: 1053}
                  - {containerPort: 80, protocol: TCP, name: http}
                  - {containerPort: 9090, name: metrics}
    """,
    "service ports by port + protocol": """
        base:
          apiVersion: v1
          kind: Service
          spec:
            ports:
            - {port: 80, targetPort: 8080}
            - {port: 53, protocol: UDP}
        patch:
          spec:
            ports:
            - {port: 80, name: http}
            - {port: 53, name: dnstcp}
        expected:
          apiVersion: v1
          kind: Service
          spec:
            ports:
            - {port: 80, targetPort: 8080, name: http}
            - {port: 53, protocol: UDP}
            - {port: 53, name: dnstcp}
    """,
    "initContainers, imagePullSecrets merge; tolerations and args replace": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                initContainers:
                - {name: migrate, image: m:1}
                imagePullSecrets:
                - name: a
                tolerations:
                - {key: a, operator: Exists}
                - {key: b, operator: Exists}
                containers:
                - {name: app, args: [--a, --b]}
        patch:
          spec:
            template:
              spec:
                initContainers:
                - {name: wait, image: w:1}
                - {name: migrate, image: m:2}
                imagePullSecrets:
                - name: b
                tolerations:
                - {key: c, operator: Exists}
                containers:
                - {name: app, args: [--c]}
        expected:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                initContainers:
                - {name: migrate, image: m:2}
                - {name: wait, image: w:1}
                imagePullSecrets:
                - name: a
                - name: b
                tolerations:
                - {key: c, operator: Exists}
                containers:
                - {name: app, args: [--c]}
    """,
    "null deletes keys, nulls inside new values are dropped": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: web
            labels: {a: "1", b: "2"}
          spec:
            replicas: 3
            template:
              spec:
                containers:
                - {name: app, image: app:1, resources: {limits: {cpu: "1"}}}
        patch:
          metadata:
            labels: {a: null, missing: null}
          spec:
            replicas: null
            strategy:
              type: Recreate
              rollingUpdate: null
            template:
              spec:
                containers:
                - {name: app, resources: null}
                - {name: new, image: n:1, command: null}
        expected:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: web
            labels: {b: "2"}
          spec:
            strategy: {type: Recreate}
            template:
              spec:
                containers:
                - {name: app, image: app:1}
                - {name: new, image: n:1}
    """,
    "$patch: replace and $patch: delete on maps, $patch: merge is the default": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: web
            labels: {a: "1", b: "2"}
            annotations: {k: v}
          spec:
            template:
              spec:
                securityContext: {runAsUser: 1, fsGroup: 2}
        patch:
          metadata:
            labels:
              $patch: replace
              c: "3"
            annotations:
              $patch: delete
          spec:
            template:
              spec:
                securityContext:
                  $patch: merge
                  runAsUser: 5
        expected:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: web
            labels: {c: "3"}
          spec:
            template:
              spec:
                securityContext: {runAsUser: 5, fsGroup: 2}
    """,
    "$patch on list elements: delete, replace one element, merge": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - name: app
                  image: app:1
                  env:
                  - {name: A, value: "1"}
                  - {name: B, value: "2"}
                - name: two
                  image: two:1
                  resources: {limits: {cpu: "1"}}
                - name: three
                  image: three:1
        patch:
          spec:
            template:
              spec:
                containers:
                - name: app
                  env:
                  - {name: A, $patch: delete}
                  - {name: Z, $patch: delete}
                - {name: two, $patch: replace, image: two:2}
                - {name: three, $patch: merge, image: three:2}
                - {name: ghost, $patch: delete}
        expected:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - name: app
                  image: app:1
                  env:
                  - {name: B, value: "2"}
                - {name: two, image: two:2}
                - {name: three, image: three:2}
    """,
    "a bare $patch: replace element replaces the list": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - {name: app, image: app:1, env: [{name: A, value: "1"}]}
                - {name: sidecar, image: side:1}
        patch:
          spec:
            template:
              spec:
                containers:
                - $patch: replace
                - {name: app, image: app:2}
        expected:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - {name: app, image: app:2}
    """,
    "$retainKeys keeps only the listed fields (API server)": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            strategy:
              type: RollingUpdate
              rollingUpdate: {maxSurge: 1}
            template:
              spec:
                volumes:
                - {name: v, configMap: {name: cm}}
        patch:
          spec:
            strategy:
              $retainKeys: [type]
              type: Recreate
            template:
              spec:
                volumes:
                - name: v
                  $retainKeys: [name, secret]
                  secret: {secretName: s}
        expected:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            strategy: {type: Recreate}
            template:
              spec:
                volumes:
                - {name: v, secret: {secretName: s}}
    """,
    "$setElementOrder reorders as the API server does": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: web
            finalizers: [a, b, c]
          spec:
            template:
              spec:
                containers:
                - {name: app, image: app:1}
                - {name: two, image: two:1}
                - {name: three, image: three:1}
        patch:
          metadata:
            $setElementOrder/finalizers: [c, a]
          spec:
            template:
              spec:
                $setElementOrder/containers:
                - name: three
                - name: app
                containers:
                - {name: three, image: three:2}
                - {name: app, image: app:2}
        expected:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: web
            finalizers: [b, c, a]  # b keeps its place before c (apimachinery mergeSortedSlice)
          spec:
            template:
              spec:
                containers:
                - {name: two, image: two:1}
                - {name: three, image: three:2}
                - {name: app, image: app:2}
    """,
    "$setElementOrder places new elements": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - {name: app}
                - {name: two}
        patch:
          spec:
            template:
              spec:
                $setElementOrder/containers: [{name: new}, {name: app}, {name: two}]
                containers:
                - {name: new}
        expected:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - {name: new}
                - {name: app}
                - {name: two}
    """,
    "$deleteFromPrimitiveList and finalizers merged as a set": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            finalizers: [a, b, a]
        patch:
          metadata:
            $deleteFromPrimitiveList/finalizers: [b]
            finalizers: [c, a]
        expected:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            finalizers: [a, c]
    """,
    "PodDisruptionBudget selector has strategy replace": """
        base:
          apiVersion: policy/v1
          kind: PodDisruptionBudget
          spec:
            minAvailable: 1
            selector:
              matchLabels: {app: web, tier: fe}
        patch:
          spec:
            selector:
              matchLabels: {app: web2}
        expected:
          apiVersion: policy/v1
          kind: PodDisruptionBudget
          spec:
            minAvailable: 1
            selector:
              matchLabels: {app: web2}
    """,
    "custom resources: maps merge, lists are replaced": """
        base:
          apiVersion: example.com/v1
          kind: Widget
          spec:
            items: [{name: a, v: 1}, {name: b, v: 2}]
            nested: {x: 1, y: 2}
            template:
              spec:
                containers: [{name: app, image: app:1}, {name: side}]
        patch:
          spec:
            items: [{name: b, v: 3}]
            nested: {x: null, z: 3}
            template:
              spec:
                containers: [{name: app, image: app:2}]
        expected:
          apiVersion: example.com/v1
          kind: Widget
          spec:
            items: [{name: b, v: 3}]
            nested: {y: 2, z: 3}
            template:
              spec:
                containers: [{name: app, image: app:2}]
    """,
    "directives in values new to the target are applied, not copied": """
        base:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - {name: app, args: [x]}
        patch:
          spec:
            template:
              spec:
                containers:
                - name: app
                  args: [{$patch: replace}, y]
                  env:
                  - {name: A, value: "1", extra: null}
                  - {name: B, $patch: delete}
                  $setElementOrder/env: [{name: A}]
                  $deleteFromPrimitiveList/command: [sh]
                  securityContext:
                    $retainKeys: [runAsUser]
                    runAsUser: 1
                  resources:
                    $patch: delete
        expected:
          apiVersion: apps/v1
          kind: Deployment
          spec:
            template:
              spec:
                containers:
                - name: app
                  args: [y]
                  env:
                  - {name: A, value: "1"}
                  securityContext: {runAsUser: 1}
    """,
    "type changes replace the old value": """
        base:
          apiVersion: v1
          kind: ConfigMap
          data: {a: "1"}
          binaryData: [1, 2]
        patch:
          data: [x]
          binaryData: {k: v}
        expected:
          apiVersion: v1
          kind: ConfigMap
          data: [x]
          binaryData: {k: v}
    """,
}


@pytest.mark.parametrize("name", list(CASES))
def test_strategic_merge_cases(name: str) -> None:
    case = y(CASES[name])
    base_before = copy.deepcopy(case["base"])
    patch_before = copy.deepcopy(case["patch"])
    assert strategic_merge(case["base"], case["patch"]) == case["expected"]
    assert case["base"] == base_before, "the base must not change"
    assert case["patch"] == patch_before, "the patch must not change"


def test_explicit_kind_overrides_the_base() -> None:
    base = y("spec: {template: {spec: {containers: [{name: a, image: x}, {name: b}]}}}")
    patch = y("spec: {template: {spec: {containers: [{name: a, image: y}]}}}")
    merged = strategic_merge(base, patch, api_version="apps/v1", kind="Deployment")
    assert merged["spec"]["template"]["spec"]["containers"] == [
        {"name": "a", "image": "y"},
        {"name": "b"},
    ]
    # without a kind, lists are replaced whole
    assert strategic_merge(base, patch)["spec"]["template"]["spec"]["containers"] == [
        {"name": "a", "image": "y"}
    ]


def test_list_keys_name_merge_keys_for_custom_resources() -> None:
    base = y("""
        apiVersion: example.com/v1
        kind: Router
        spec:
          routes:
          - {path: /a, backend: a}
          - {path: /b, backend: b}
          hosts: [{host: x, port: 1}]
    """)
    patch = y("""
        spec:
          routes:
          - {path: /b, backend: b2}
          - {path: /c, backend: c}
          hosts: [{host: y, port: 2}]
    """)
    merged = strategic_merge(base, patch, list_keys={"spec.routes": "path"})
    assert merged["spec"] == y("""
        routes:
        - {path: /a, backend: a}
        - {path: /b, backend: b2}
        - {path: /c, backend: c}
        hosts: [{host: y, port: 2}]
    """)


def test_list_keys_composite_and_nested_under_lists() -> None:
    base = y("""
        spec:
          groups:
          - name: g
            rules: [{host: a, port: 1, x: 1}, {host: a, port: 2, x: 2}]
    """)
    patch = y("""
        spec:
          groups:
          - name: g
            rules: [{host: a, port: 2, x: 3}]
    """)
    keys = {"spec.groups": "name", "spec.groups.rules": "host, port"}
    merged = strategic_merge(base, patch, list_keys=keys)
    assert merged["spec"]["groups"][0]["rules"] == [
        {"host": "a", "port": 1, "x": 1},
        {"host": "a", "port": 2, "x": 3},
    ]
    with pytest.raises(PatchError, match=r"spec\.groups\[0\]\.rules\[0\]: merge key 'port'"):
        strategic_merge(base, y("spec: {groups: [{name: g, rules: [{host: a}]}]}"), list_keys=keys)


def test_list_keys_override_the_table() -> None:
    base = y(DEPLOYMENT + "spec: {template: {spec: {tolerations: [{key: a, value: '1'}]}}}")
    patch = y("spec: {template: {spec: {tolerations: [{key: b, value: '2'}]}}}")
    keys = {"spec.template.spec.tolerations": "key"}
    merged = strategic_merge(base, patch, list_keys=keys)
    assert merged["spec"]["template"]["spec"]["tolerations"] == [
        {"key": "a", "value": "1"},
        {"key": "b", "value": "2"},
    ]


ERRORS: dict[str, tuple[str, str, str]] = {
    "missing merge key": (
        DEPLOYMENT + "spec: {template: {spec: {containers: [{name: a}]}}}",
        "spec: {template: {spec: {containers: [{name: a}, {image: x}]}}}",
        r"^spec\.template\.spec\.containers\[1\]: merge key 'name' missing$",
    ),
    "composite key given in part": (
        DEPLOYMENT
        + "spec: {template: {spec: {topologySpreadConstraints: "
        + "[{topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]}}}",
        "spec: {template: {spec: {topologySpreadConstraints: [{topologyKey: zone, maxSkew: 2}]}}}",
        r"^spec\.template\.spec\.topologySpreadConstraints\[0\]: merge key "
        r"'whenUnsatisfiable' missing \(the list is keyed by 'topologyKey' \+ "
        r"'whenUnsatisfiable'\)$",
    ),
    "port without containerPort": (
        DEPLOYMENT + "spec: {template: {spec: {containers: [{name: a}]}}}",
        "spec: {template: {spec: {containers: [{name: a, ports: [{protocol: UDP}]}]}}}",
        r"containers\[0\]\.ports\[0\]: merge key 'containerPort' missing",
    ),
    "delete element without key": (
        DEPLOYMENT + "spec: {template: {spec: {containers: [{name: a}]}}}",
        "spec: {template: {spec: {containers: [{$patch: delete}]}}}",
        r"containers\[0\]: merge key 'name' missing",
    ),
    "delete element in a list without merge key": (
        "{apiVersion: example.com/v1, kind: Widget, spec: {items: [{name: a}, {name: b}]}}",
        "spec: {items: [{name: a, $patch: delete}]}",
        r"^spec\.items\[0\]: '\$patch: delete' needs a list with a merge key",
    ),
    "delete element in tolerations": (
        DEPLOYMENT + "spec: {template: {spec: {tolerations: [{key: a}]}}}",
        "spec: {template: {spec: {tolerations: [{key: b}, {key: a, $patch: delete}]}}}",
        r"^spec\.template\.spec\.tolerations\[1\]: '\$patch: delete' needs a list",
    ),
    "non-map element in a keyed list": (
        DEPLOYMENT,
        "spec: {template: {spec: {containers: [app]}}}",
        r"containers\[0\]: expected a map with merge key 'name', got str",
    ),
    "map key value": (
        DEPLOYMENT,
        "spec: {template: {spec: {containers: [{name: {a: 1}}]}}}",
        r"containers\[0\]: merge key 'name' must be a scalar, got a map",
    ),
    "unknown $patch": (
        DEPLOYMENT,
        "metadata: {labels: {$patch: remove}}",
        r"^metadata\.labels: unknown \$patch directive 'remove'",
    ),
    "$retainKeys not a list": (
        DEPLOYMENT,
        "spec: {strategy: {$retainKeys: type}}",
        r"^spec\.strategy: \$retainKeys must be a list of field names$",
    ),
    "field outside $retainKeys": (
        DEPLOYMENT,
        "spec: {strategy: {$retainKeys: [type], rollingUpdate: {maxSurge: 1}}}",
        r"field 'rollingUpdate' is set by the patch but not in \$retainKeys",
    ),
    "$setElementOrder not a list": (
        DEPLOYMENT,
        "spec: {template: {spec: {$setElementOrder/containers: {name: a}}}}",
        r"^spec\.template\.spec\.\$setElementOrder/containers: must be a list, got a map$",
    ),
    "$setElementOrder entry without key": (
        DEPLOYMENT + "spec: {template: {spec: {containers: [{name: a}]}}}",
        "spec: {template: {spec: {$setElementOrder/containers: [{image: a}]}}}",
        r"\$setElementOrder/containers\[0\]: merge key 'name' missing",
    ),
    "patch list out of $setElementOrder order": (
        DEPLOYMENT + "spec: {template: {spec: {containers: [{name: a}, {name: b}]}}}",
        "spec: {template: {spec: {$setElementOrder/containers: [{name: a}, {name: b}], "
        "containers: [{name: b}, {name: a}]}}}",
        r"not in \$setElementOrder order",
    ),
    "$deleteFromPrimitiveList of maps": (
        DEPLOYMENT,
        "metadata: {$deleteFromPrimitiveList/finalizers: [{a: 1}]}",
        r"^metadata\.finalizers: \$deleteFromPrimitiveList/finalizers must be a list of scalars$",
    ),
    "map in a set list": (
        DEPLOYMENT,
        "metadata: {finalizers: [a, {b: 1}]}",
        r"^metadata\.finalizers\[1\]: expected a scalar, got a map$",
    ),
    "directive without field": (
        DEPLOYMENT,
        "metadata: {$setElementOrder/: []}",
        r"directive '\$setElementOrder/' names no field",
    ),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_name_the_path(name: str) -> None:
    base, patch, pattern = ERRORS[name]
    with pytest.raises(PatchError) as caught:
        strategic_merge(y(base), y(patch))
    assert caught.match(pattern)


def test_error_location_carries_the_yaml_path() -> None:
    base = y(DEPLOYMENT + "spec: {template: {spec: {containers: [{name: a}]}}}")
    with pytest.raises(PatchError) as caught:
        strategic_merge(base, y("spec: {template: {spec: {containers: [{image: x}]}}}"))
    assert caught.value.location is not None
    assert caught.value.location.yaml_path == "spec.template.spec.containers[0]"
    assert caught.value.message == "merge key 'name' missing"


def test_top_level_delete_is_reported_not_applied() -> None:
    patch = y(DEPLOYMENT + "$patch: delete")
    assert deletes_object(patch)
    assert not deletes_object(y(DEPLOYMENT))
    with pytest.raises(PatchError, match="deletes the whole object"):
        strategic_merge(y(DEPLOYMENT), patch)


def test_top_level_replace() -> None:
    merged = strategic_merge(y(DEPLOYMENT + "spec: {replicas: 2}"), y("$patch: replace\nspec: {}"))
    assert merged == {"spec": {}}


@pytest.mark.parametrize(
    ("base", "patch", "message"),
    [
        ([], {}, "strategic merge needs a map to patch, got a list"),
        ({}, [], "a strategic merge patch must be a map, got a list"),
        ({}, None, "a strategic merge patch must be a map, got null"),
    ],
)
def test_bad_arguments(base: Any, patch: Any, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        strategic_merge(base, patch)


def test_bad_list_keys() -> None:
    with pytest.raises(PatchError, match="list_keys"):
        strategic_merge({}, {}, list_keys={"spec.routes": ""})
    with pytest.raises(PatchError, match="list_keys"):
        strategic_merge({}, {}, list_keys=["spec.routes"])  # type: ignore[arg-type]


def test_deep_nesting_is_a_patch_error() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(PatchError, match="nested too deeply"):
        strategic_merge({}, deep)


def test_unchanged_subtrees_are_shared_and_touched_paths_copied() -> None:
    base = y("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, labels: {a: "1"}}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            spec:
              containers:
              - {name: app, image: app:1, resources: {limits: {cpu: "1"}}}
              - {name: side, image: side:1}
    """)
    merged = strategic_merge(base, y("spec: {template: {spec: {containers: [{name: side}]}}}"))
    assert merged["metadata"] is base["metadata"]
    assert merged["spec"]["selector"] is base["spec"]["selector"]
    containers = merged["spec"]["template"]["spec"]["containers"]
    assert containers is not base["spec"]["template"]["spec"]["containers"]
    assert containers[0] is base["spec"]["template"]["spec"]["containers"][0]
    assert containers[1] is not base["spec"]["template"]["spec"]["containers"][1]


def test_patch_values_are_not_shared_with_the_result() -> None:
    patch = y("metadata: {labels: {a: '1'}}\nspec: {template: {spec: {tolerations: [{key: a}]}}}")
    merged = strategic_merge(y(DEPLOYMENT), patch)
    assert merged["metadata"]["labels"] is not patch["metadata"]["labels"]
    tolerations = merged["spec"]["template"]["spec"]["tolerations"]
    assert tolerations[0] is not patch["spec"]["template"]["spec"]["tolerations"][0]
