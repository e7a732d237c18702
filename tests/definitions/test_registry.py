"""The registry: built-ins found anywhere, user folders add to or shadow them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.data import builtin_definitions_dir
from engine.definitions import Registry
from engine.errors import DefinitionError


def write_trait(root: Path, name: str, template: str = "patch: {}\n") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "definition.yaml").write_text(
        f"kind: TraitDefinition\nname: {name}\ndescription: test trait\n"
    )
    (folder / "schema.json").write_text(json.dumps({"type": "object"}))
    (folder / "template.yaml.j2").write_text(template)
    return folder


def test_builtins_are_found_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    registry = Registry()
    assert registry.get("trait", "scaler") is not None
    assert registry.get("component", "scaler") is None
    assert builtin_definitions_dir().is_dir()


def test_user_definitions_add_and_shadow_with_one_notice(tmp_path: Path) -> None:
    write_trait(tmp_path, "scaler")
    write_trait(tmp_path, "my-trait")
    registry = Registry([tmp_path])
    assert registry.notices == [
        f"{tmp_path / 'scaler'}: trait definition 'scaler' shadows the built-in one"
    ]
    scaler = registry.get("trait", "scaler")
    assert scaler is not None and scaler.folder == tmp_path / "scaler"
    assert not registry.is_builtin(scaler)
    assert "my-trait" in registry.names("trait")


def test_broken_definition_metadata_is_located(tmp_path: Path) -> None:
    folder = write_trait(tmp_path, "bad")
    (folder / "definition.yaml").write_text(
        "kind: TraitDefinition\nname: bad\ndescription: x\nappliesTo: deployments.apps\n"
    )
    with pytest.raises(DefinitionError, match=r"definition.yaml:4: appliesTo: 'deployments.apps'"):
        Registry([tmp_path]).get("trait", "bad")


def test_invalid_json_schema_is_a_definition_error(tmp_path: Path) -> None:
    folder = write_trait(tmp_path, "bad")
    (folder / "schema.json").write_text('{"type": "objekt"}')
    with pytest.raises(DefinitionError, match="not a valid JSON Schema"):
        Registry([tmp_path]).get("trait", "bad")


def test_missing_user_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="definition folder not found"):
        Registry([tmp_path / "nope"])
