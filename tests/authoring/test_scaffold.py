"""``def init`` scaffolds: valid names only, and files that pass every check at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.authoring.checks import check_folders
from engine.authoring.examples import Trial, located, render_trial
from engine.authoring.scaffold import name_problem, scaffold
from engine.definitions import Registry, load_definition
from engine.errors import DefinitionError


def write(root: Path, name: str, kind: str) -> Path:
    for relative, text in scaffold(name, kind).items():
        path = root / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / name


@pytest.mark.parametrize("kind", ["component", "trait"])
def test_a_scaffold_passes_every_check(tmp_path: Path, kind: str) -> None:
    folder = write(tmp_path, "my-thing", kind)
    report = check_folders([folder])
    assert [str(p) for p in report.problems] == []
    assert report.warnings == []
    assert report.examples == 1
    assert report.kube.checked >= 1


@pytest.mark.parametrize("kind", ["component", "trait"])
def test_the_schema_is_closed_with_one_required_and_one_defaulted_property(
    tmp_path: Path, kind: str
) -> None:
    definition = load_definition(write(tmp_path, "my-thing", kind))
    schema = definition.schema
    assert schema["additionalProperties"] is False
    assert len(schema["required"]) == 1
    defaulted = [k for k, v in schema["properties"].items() if "default" in v]
    assert len(defaulted) == 1 and defaulted[0] not in schema["required"]


def test_the_component_renders_a_deployment(tmp_path: Path) -> None:
    write(tmp_path, "my-comp", "component")
    registry = Registry([tmp_path])
    definition = registry.get("component", "my-comp")
    assert definition is not None
    trial = Trial("t", located(json.dumps({"image": "busybox:1.36"}), "p.json"))
    [workload] = [m.object for m in render_trial(registry, definition, trial).manifests]
    assert workload["kind"] == "Deployment"
    assert workload["spec"]["replicas"] == 1
    assert workload["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.36"


def test_the_trait_patches_a_label_and_adds_an_output(tmp_path: Path) -> None:
    folder = write(tmp_path, "owner", "trait")
    registry = Registry([tmp_path])
    definition = registry.get("trait", "owner")
    assert definition is not None and definition.folder == folder
    trial = Trial("t", located('{"owner": "team-a"}', "p.json"))
    workload, config = [m.object for m in render_trial(registry, definition, trial).manifests]
    assert workload["metadata"]["labels"]["owner"] == "team-a"
    assert workload["spec"]["template"]["metadata"]["labels"]["owner"] == "team-a"
    assert config["kind"] == "ConfigMap"
    assert config["metadata"]["name"] == "demo-comp-owner"
    assert config["data"] == {"owner": "team-a", "contact": "nobody@example.com"}


@pytest.mark.parametrize("name", ["My-Trait", "-a", "a-", "a_b", "", "a" * 64, "a.b"])
def test_names_must_be_dns_labels(name: str) -> None:
    assert name_problem(name)
    with pytest.raises(DefinitionError):
        scaffold(name, "trait")


@pytest.mark.parametrize("name", ["a", "my-trait", "x1", "1x", "a" * 63])
def test_dns_labels_are_accepted(name: str) -> None:
    assert name_problem(name) is None


def test_an_unknown_kind_is_an_error() -> None:
    with pytest.raises(DefinitionError, match="unknown definition kind 'policy'"):
        scaffold("x", "policy")
