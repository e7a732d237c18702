"""Rendering one definition on its own, with errors mapped back to the properties' files."""

from __future__ import annotations

import pytest

from engine.authoring.examples import (
    Trial,
    definition_named,
    host_component,
    load_example,
    located,
    render_trial,
)
from engine.definitions import Registry
from engine.errors import SailplanError
from engine.model import dump_yaml
from tests.conftest import render_text
from tests.definitions.test_builtins import app_for


def test_examples_render_as_the_golden_test_application(registry: Registry) -> None:
    for name in ("scaler", "gateway"):
        definition = registry.get("trait", name)
        assert definition is not None
        for example in definition.examples():
            trial = load_example(definition.folder / "examples" / f"{example.name}.yaml")
            ours = dump_yaml(render_trial(registry, definition, trial).manifests)
            assert ours == render_text(app_for(definition, example), registry)


def test_a_component_with_inline_properties(registry: Registry) -> None:
    definition = definition_named(registry, "webservice")
    trial = Trial("p", located('{"image": "nginx:1.27", "cmd": ["a: b"]}', "--properties"))
    [deployment] = [m.object for m in render_trial(registry, definition, trial).manifests]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["a: b"]


def test_errors_point_into_the_properties_file(registry: Registry) -> None:
    definition = definition_named(registry, "scaler")
    trial = Trial("p", located("# replicas\nreplicas: many\n", "props.yaml"))
    with pytest.raises(SailplanError) as caught:
        render_trial(registry, definition, trial)
    assert str(caught.value) == (
        "props.yaml:2: replicas: 'many' is not of type 'integer' (trait scaler)"
    )


def test_errors_in_the_host_component_point_into_its_file(registry: Registry) -> None:
    definition = definition_named(registry, "scaler")
    host = host_component(located("type: webservice\nproperties:\n  image: 3\n", "host.yaml"))
    with pytest.raises(SailplanError) as caught:
        render_trial(registry, definition, Trial("p", located("{}", "p.json"), host))
    assert str(caught.value) == (
        "host.yaml:3: properties.image: 3 is not of type 'string' (component webservice)"
    )


@pytest.mark.parametrize(
    "text",
    [
        "type: worker\nproperties: {image: busybox}\n",
        "component:\n  type: worker\n  properties: {image: busybox}\nproperties: {}\n",
        "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: x}\n"
        "spec:\n  components:\n    - {name: job, type: worker, properties: {image: busybox}}\n",
    ],
)
def test_a_host_from_a_component_an_example_or_an_application(
    registry: Registry, text: str
) -> None:
    definition = definition_named(registry, "scaler")
    host = host_component(located(text, "host.yaml"))
    trial = Trial("p", located('{"replicas": 4}', "p.json"), host)
    [workload] = [m.object for m in render_trial(registry, definition, trial).manifests]
    assert workload["metadata"]["labels"]["workload.oam.dev/type"] == "worker"
    assert workload["spec"]["replicas"] == 4


def test_unknown_names_get_a_suggestion(registry: Registry) -> None:
    with pytest.raises(SailplanError, match="no definition called 'scalr'; did you mean 'scaler'"):
        definition_named(registry, "scalr")
