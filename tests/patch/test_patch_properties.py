"""Property tests: any JSON document and patch give a result or a PatchError, nothing else.

The strategies favour the names the engine treats specially (directives, merge keys,
Kubernetes field names) so that random patches reach the interesting code paths.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch as jsonpatch_library
import jsonpointer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import PatchError
from engine.patch.jsonpatch import apply_json_patch
from engine.patch.mergepatch import apply_merge_patch
from engine.patch.strategic import strategic_merge

SPECIAL_KEYS = [
    "$patch",
    "$retainKeys",
    "$setElementOrder/containers",
    "$setElementOrder/finalizers",
    "$setElementOrder/env",
    "$deleteFromPrimitiveList/finalizers",
    "$deleteFromPrimitiveList/args",
    "$setElementOrder/",
    "metadata",
    "spec",
    "template",
    "containers",
    "initContainers",
    "env",
    "ports",
    "volumes",
    "volumeMounts",
    "finalizers",
    "selector",
    "topologySpreadConstraints",
    "name",
    "mountPath",
    "containerPort",
    "protocol",
    "port",
    "topologyKey",
    "whenUnsatisfiable",
    "args",
    "items",
]
SPECIAL_VALUES = ["replace", "delete", "merge", "TCP", "UDP", "app", "a", "b"]

keys = st.one_of(st.sampled_from(SPECIAL_KEYS), st.text(max_size=5))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(SPECIAL_VALUES),
    st.text(max_size=5),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=30,
)
json_maps = st.dictionaries(keys, json_values, max_size=5)

KINDS = [
    ("apps/v1", "Deployment"),
    ("v1", "Pod"),
    ("v1", "Service"),
    ("policy/v1", "PodDisruptionBudget"),
    ("example.com/v1", "Widget"),
    (None, None),
]


def kubernetes_like(spec_value: Any) -> Any:
    """Documents shaped like objects, so the schema table is consulted deep down."""
    return st.fixed_dictionaries(
        {"metadata": json_maps, "spec": st.fixed_dictionaries({"template": spec_value})},
    )


directive = st.sampled_from(["delete", "replace", "merge", "bogus"])
element_names = st.sampled_from(["a", "b", "c"])


def element(**fields: Any) -> Any:
    """A list element with optional fields and an optional ``$patch``."""
    return st.fixed_dictionaries({}, optional={**fields, "$patch": directive})


env = st.lists(element(name=element_names, value=scalars), max_size=3)
ports = st.lists(
    element(
        containerPort=st.sampled_from([80, 81]),
        protocol=st.sampled_from(["TCP", "UDP"]),
        name=element_names,
    ),
    max_size=3,
)
containers = st.lists(
    element(
        name=element_names,
        image=scalars,
        env=env,
        ports=ports,
        args=st.lists(scalars, max_size=2),
        **{"$setElementOrder/env": st.lists(element(name=element_names), max_size=3)},
    ),
    max_size=3,
)
pod_spec = st.fixed_dictionaries(
    {},
    optional={
        "containers": containers,
        "initContainers": containers,
        "$setElementOrder/containers": st.lists(element(name=element_names), max_size=3),
        "tolerations": st.lists(json_maps, max_size=2),
    },
)
pod_template = st.fixed_dictionaries({"spec": pod_spec})
documents = st.one_of(json_maps, kubernetes_like(json_maps), kubernetes_like(pod_template))
patches = st.one_of(json_maps, kubernetes_like(pod_template), json_values)

FAST = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(
    base=documents,
    patch=patches,
    kind=st.sampled_from(KINDS),
    list_keys=st.one_of(
        st.none(),
        st.dictionaries(
            st.sampled_from(["spec", "spec.items", "metadata.finalizers"]),
            st.sampled_from(["name", "name,port", "a"]),
            max_size=2,
        ),
    ),
)
def test_strategic_merge_gives_a_result_or_a_patch_error(
    base: Any, patch: Any, kind: tuple[str | None, str | None], list_keys: Any
) -> None:
    before = copy.deepcopy((base, patch))
    try:
        result = strategic_merge(
            base, patch, api_version=kind[0], kind=kind[1], list_keys=list_keys
        )
    except PatchError as error:
        assert str(error)
    else:
        assert isinstance(result, dict)
        assert not _has_directive(result, base), "directives must not reach the output"
    assert (base, patch) == before, "inputs must not change"


def _has_directive(value: Any, base: Any) -> bool:
    """Whether ``value`` holds a directive key that the base did not already have."""
    return _directive_count(value) > _directive_count(base)


def _directive_count(value: Any) -> int:
    if isinstance(value, dict):
        own = sum(
            1
            for key in value
            if key in ("$patch", "$retainKeys")
            or key.startswith(("$setElementOrder/", "$deleteFromPrimitiveList/"))
        )
        return own + sum(_directive_count(v) for v in value.values())
    if isinstance(value, list):
        return sum(_directive_count(v) for v in value)
    return 0


@FAST
@given(base=documents, patch=json_maps)
def test_strategic_merge_of_plain_maps_is_a_merge_patch_without_lists(
    base: Any, patch: Any
) -> None:
    """Without directives and lists, strategic merge and RFC 7396 agree."""
    if _directive_count(patch) or _has_list(patch):
        return
    try:
        ours = strategic_merge(base, patch, api_version="example.com/v1", kind="Widget")
    except PatchError:
        return
    assert ours == apply_merge_patch(base, patch)


def _has_list(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_list(v) for v in value.values())
    return isinstance(value, list)


@FAST
@given(doc=json_values, patch=json_values)
def test_merge_patch_is_total_and_idempotent(doc: Any, patch: Any) -> None:
    before = copy.deepcopy((doc, patch))
    once = apply_merge_patch(doc, patch)
    assert apply_merge_patch(once, patch) == once
    assert (doc, patch) == before


pointers = st.lists(
    st.one_of(
        st.sampled_from(["0", "1", "-", "a", "b", "name", "~", "a/b", "01"]), st.text(max_size=3)
    ),
    max_size=3,
).map(lambda tokens: "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens))
operations = st.fixed_dictionaries(
    {
        "op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "bad"]),
        "path": st.one_of(pointers, st.sampled_from(["", "x", "/~2"]), st.integers()),
    },
    optional={"value": json_values, "from": st.one_of(pointers, st.none())},
)
operation_lists = st.one_of(st.lists(operations, max_size=4), json_values)


@FAST
@given(doc=json_values, ops=operation_lists)
def test_json_patch_gives_a_result_or_a_patch_error(doc: Any, ops: Any) -> None:
    before = copy.deepcopy((doc, ops))
    try:
        apply_json_patch(doc, ops)
    except PatchError as error:
        assert str(error)
    assert (doc, ops) == before


@FAST
@given(doc=json_values, ops=st.lists(operations, max_size=4))
def test_json_patch_agrees_with_the_jsonpatch_library(doc: Any, ops: Any) -> None:
    """Where the ``jsonpatch`` package applies a patch, the result is the same."""
    if any(op["op"] == "test" for op in ops):
        return  # the library compares with Python's ==, where true == 1
    try:
        expected = jsonpatch_library.apply_patch(copy.deepcopy(doc), copy.deepcopy(ops))
    except (jsonpatch_library.JsonPatchException, jsonpointer.JsonPointerException):
        return
    except (TypeError, AttributeError, KeyError, IndexError, ValueError):
        return  # the library crashes on some malformed operations
    assert apply_json_patch(doc, ops) == expected
