"""A small harness for tests that need their own definitions: YAML in, objects out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.build import Build, build_documents
from engine.definitions import Registry
from engine.model import dump_yaml, load_documents


class Harness:
    """Writes definition folders under a temporary directory and builds apps with them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def definition(
        self,
        name: str,
        template: str,
        *,
        kind: str = "TraitDefinition",
        schema: dict[str, Any] | None = None,
        **meta: Any,
    ) -> Path:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        head = {"kind": kind, "name": name, "description": f"test {name}", **meta}
        (folder / "definition.yaml").write_text(json.dumps(head))
        (folder / "schema.json").write_text(json.dumps(schema or {"type": "object"}))
        (folder / "template.yaml.j2").write_text(template)
        return folder

    def component(self, name: str, template: str, **kwargs: Any) -> Path:
        return self.definition(name, template, kind="ComponentDefinition", **kwargs)

    def registry(self) -> Registry:
        return Registry([self.root])

    def build(self, app: str, **kwargs: Any) -> Build:
        return build_documents(load_documents(app, "app.yaml"), self.registry(), **kwargs)

    def objects(self, app: str, **kwargs: Any) -> list[dict[str, Any]]:
        return [m.object for m in self.build(app, **kwargs).manifests]

    def render(self, app: str, **kwargs: Any) -> str:
        return dump_yaml(self.build(app, **kwargs).manifests)


def app_yaml(components: str, *, name: str = "demo", meta: str = "") -> str:
    """An Application around an indented ``components:`` list body."""
    return (
        "apiVersion: core.oam.dev/v1beta1\nkind: Application\n"
        f"metadata:\n  name: {name}\n{meta}spec:\n  components:\n{components}"
    )


CONFIGMAP = """\
output:
  apiVersion: v1
  kind: ConfigMap
  data:
    value: {{ parameter.value }}
"""
