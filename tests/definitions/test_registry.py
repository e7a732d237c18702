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


CASES = Path(__file__).parent.parent / "cases" / "definitions"


def test_a_definition_name_that_is_no_name_is_an_error_naming_its_file() -> None:
    with pytest.raises(DefinitionError) as info:
        Registry([CASES / "dotdot-name"])
    assert str(info.value).startswith(f"{CASES / 'dotdot-name' / 'definition.yaml'}:3: name: ")
    assert "'../x' is not a valid definition name" in str(info.value)


@pytest.mark.parametrize("file", ["template.yaml.j2", "schema.json", "definition.yaml"])
def test_links_leaving_the_definition_folder_are_not_followed(tmp_path: Path, file: str) -> None:
    secret = tmp_path / "credentials"
    secret.write_text("password: hunter2\n")
    folder = tmp_path / "defs" / "leak"
    folder.mkdir(parents=True)
    (folder / "definition.yaml").write_text(
        "kind: TraitDefinition\nname: leak\ndescription: leaks\n"
    )
    (folder / "schema.json").write_text('{"type": "object"}')
    (folder / "template.yaml.j2").write_text("patch: {}\n")
    (folder / file).unlink()
    (folder / file).symlink_to(secret)
    with pytest.raises(DefinitionError) as info:
        Registry([tmp_path / "defs"]).get("trait", "leak")
    assert str(info.value) == (
        f"{folder / file}: is a link leading out of its definition folder; it is not followed"
    )
    assert "hunter2" not in str(info.value)


def test_links_inside_the_definition_folder_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "defs" / "linked"
    folder.mkdir(parents=True)
    (folder / "definition.yaml").write_text(
        "kind: TraitDefinition\nname: linked\ndescription: linked\n"
    )
    (folder / "schema.json").write_text('{"type": "object"}')
    (folder / "real.j2").write_text("patch: {}\n")
    (folder / "template.yaml.j2").symlink_to("real.j2")
    found = Registry([tmp_path / "defs"]).get("trait", "linked")
    assert found is not None and found.template == "patch: {}\n"
