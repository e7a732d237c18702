"""Definitions through sources: in memory (no file at all) or from folders, the same result."""

from __future__ import annotations

import builtins
import io
import json
from pathlib import Path, PurePath
from typing import Any

import pytest

from engine.build import build_documents
from engine.definitions import (
    DefinitionFiles,
    FolderSource,
    MemorySource,
    Registry,
)
from engine.errors import DefinitionError
from engine.model import load_documents
from tests.harness import app_yaml

WEB = DefinitionFiles(
    kind="component",
    name="web",
    folder=PurePath("memory/web"),
    metadata="kind: ComponentDefinition\nname: web\ndescription: a web server\n",
    schema=json.dumps(
        {"type": "object", "properties": {"image": {"type": "string"}}, "required": ["image"]}
    ),
    template=(
        "output:\n  apiVersion: apps/v1\n  kind: Deployment\n"
        "  metadata: {name: {{ context.name }}}\n"
        "  spec: {template: {spec: {containers: [{name: main, image: {{ parameter.image }}}]}}}\n"
    ),
    examples={"basic.yaml": "properties: {image: nginx}\n"},
)
APP = app_yaml("    - name: site\n      type: web\n      properties: {image: nginx:1.27}\n")


def memory_registry() -> Registry:
    return Registry(builtin=MemorySource([WEB]))


def test_an_application_builds_from_definitions_in_memory() -> None:
    registry = memory_registry()
    assert registry.names("component") == ["web"] and registry.names("trait") == []
    (deployment,) = build_documents(load_documents(APP, "app.yaml"), registry).manifests
    container = deployment.object["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.27"
    (example,) = registry.get("component", "web").examples()  # type: ignore[union-attr]
    assert example.name == "basic" and example.properties == {"image": "nginx"}


def test_build_opens_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    documents = load_documents(APP, "app.yaml")
    build_documents(documents, memory_registry())  # bundled schemas are read once, here

    def no_files(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"build() opened a file: {args[:1]}")

    monkeypatch.setattr(builtins, "open", no_files)
    monkeypatch.setattr(io, "open", no_files)
    (deployment,) = build_documents(documents, memory_registry()).manifests
    assert deployment.object["metadata"]["name"] == "site"


def test_errors_name_the_source_folder() -> None:
    broken = DefinitionFiles(
        "component", "web", PurePath("memory/web"), WEB.metadata, "{not json", WEB.template
    )
    with pytest.raises(DefinitionError, match=r"^memory/web/schema\.json:1: invalid JSON"):
        Registry(builtin=MemorySource([broken])).get("component", "web")


def test_a_folder_source_and_a_memory_source_give_the_same_objects(tmp_path: Path) -> None:
    folder = tmp_path / "defs" / "web"
    (folder / "examples").mkdir(parents=True)
    (folder / "definition.yaml").write_text(WEB.metadata)
    (folder / "schema.json").write_text(WEB.schema)
    (folder / "template.yaml.j2").write_text(WEB.template)
    (folder / "examples" / "basic.yaml").write_text(WEB.examples["basic.yaml"])
    source = FolderSource(tmp_path / "defs")
    assert dict(source.index()) == {("component", "web"): folder}
    from_folder = Registry([source], builtin=MemorySource([]))
    documents = load_documents(APP, "app.yaml")
    assert [m.object for m in build_documents(documents, from_folder).manifests] == [
        m.object for m in build_documents(documents, memory_registry()).manifests
    ]
