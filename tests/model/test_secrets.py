"""Secret values are never printed: the masking tools, and a test per path that leaked.

Inputs of the paths are under ``tests/cases/secrets/``; each Secret value there holds
``hunter2``, which must never appear in any output.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from click.testing import CliRunner, Result

from cli import main
from engine.diff import diff_manifests
from engine.errors import SchemaError
from engine.model import Manifest
from engine.model.secrets import MASK, mask_secret, redact_text, redacted, secret_values

CASES = Path(__file__).parent.parent / "cases" / "secrets"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def secret(data: dict[str, str], *, string_data: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "d"}}
    return {**body, "data": data, **({"stringData": string_data} if string_data else {})}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# -- the tools -------------------------------------------------------------------------


def test_mask_secret_masks_values_and_their_copies_in_annotations() -> None:
    obj = secret({"password": b64("hunter2-pw")}, string_data={"token": "hunter2-tok"})
    applied = json.dumps({**obj, "metadata": {"name": "db"}})
    obj["metadata"]["annotations"] = {LAST_APPLIED: applied, "note": "token is hunter2-tok"}
    masked = mask_secret(obj)
    assert masked["data"] == {"password": MASK}
    assert masked["stringData"] == {"token": MASK}
    assert "hunter2" not in json.dumps(masked)
    assert json.loads(masked["metadata"]["annotations"][LAST_APPLIED])["data"] == {"password": MASK}
    assert masked["metadata"]["annotations"]["note"] == f"token is {MASK}"
    assert obj["data"] == {"password": b64("hunter2-pw")}  # the input is not changed


def test_other_objects_are_not_masked() -> None:
    config = {"kind": "ConfigMap", "data": {"password": "plain"}}
    assert mask_secret(config) is config


def test_secret_values_are_found_anywhere_in_every_printed_form() -> None:
    tree = {"objects": [secret({"p": b64("hunter2-decoded")}, string_data={"t": "hunter2-s"})]}
    values = secret_values(tree)
    assert {b64("hunter2-decoded"), "hunter2-decoded", "hunter2-s", b64("hunter2-s")} <= values


def test_redact_text_masks_quoted_and_escaped_spellings() -> None:
    values = secret_values(secret({}, string_data={"t": "hunter2\nline 'two'"}))
    text = "got 'hunter2\\nline \\'two\\'' and \"hunter2\\nline 'two'\""
    assert "hunter2" not in redact_text(text, values)
    assert redact_text("short a b", {"a"}) == "short a b"  # too short to hunt for


def test_redacted_changes_an_error_message() -> None:
    error = SchemaError("'hunter2-x' is not an integer")
    assert str(redacted(error, {"hunter2-x"})) == "'***' is not an integer"


# -- every path that printed a value ----------------------------------------------------


def test_schema_errors_on_k8s_objects_holding_a_secret() -> None:
    result = run("render", str(CASES / "schema-k8s-objects.yaml"))
    assert result.exit_code == 1
    assert "is not of type 'array'" in result.stderr
    assert "'password': '***'" in result.stderr
    assert "hunter2" not in result.output + result.stderr


def test_application_schema_errors_quoting_a_secret() -> None:
    for command in ("render", "validate"):
        result = run(command, str(CASES / "properties-not-a-mapping.yaml"))
        assert result.exit_code == 1
        assert "is not of type 'object', 'null'" in result.stderr
        assert "'password': '***'" in result.stderr
        assert "hunter2" not in result.output + result.stderr


def test_validate_strict_type_errors_in_string_data() -> None:
    result = run("validate", "--strict", str(CASES / "strict-stringdata.yaml"))
    assert result.exit_code == 1
    assert "stringData.password: *** is not of type" in result.stderr
    assert "hunter2" not in result.output + result.stderr
    result = run("validate", "--strict", str(CASES / "strict-data-number.yaml"))
    assert result.exit_code == 1
    assert "data.token: *** is not of type" in result.stderr
    assert "73217654321" not in result.output + result.stderr


def test_a_json_patch_test_operation_on_a_secret() -> None:
    for env in ("prod", "staging"):
        result = run("render", str(CASES / "test-op"), "--env", env)
        assert result.exit_code == 1
        assert "does not equal the one tested (values not shown)" in result.stderr
        assert "hunter2" not in result.stderr
        assert b64("hunter2-base64") not in result.stderr


def test_a_diff_of_the_last_applied_configuration_annotation() -> None:
    old = secret({"password": b64("hunter2-old")})
    new = secret({"password": b64("hunter2-new")})
    for obj in (old, new):
        body = {k: v for k, v in obj.items() if k != "metadata"}
        obj["metadata"] = {**obj["metadata"], "annotations": {LAST_APPLIED: json.dumps(body)}}
    (entry,) = diff_manifests([Manifest(old, "a")], [Manifest(new, "a")]).objects
    assert "-  password: '*** (before)'" in entry.diff
    assert '"password":"***"' in entry.diff
    assert "hunter2" not in entry.diff and b64("hunter2-old") not in entry.diff
    assert b64("hunter2-new") not in entry.diff


def test_a_change_of_kind_to_and_from_secret() -> None:
    was_secret = secret({"password": b64("hunter2-kind")})
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "db", "namespace": "d"},
        "data": {"password": "hunter2-kind"},
    }
    for old, new in ((was_secret, config), (config, was_secret)):
        diff = diff_manifests([Manifest(old, "a")], [Manifest(new, "a")], match_moved=True)
        text = "".join(o.diff for o in diff.objects)
        assert "ConfigMap/d/db" in text and "Secret/d/db" in text
        assert "hunter2" not in text and b64("hunter2-kind") not in text


def test_the_diff_command_never_shows_a_secret_value(tmp_path: Path) -> None:
    from tests.gitops.test_baseref import commit, git, write

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    text = (CASES / "test-op" / "app.yaml").read_text()
    write(repo, "apps/app.yaml", text)
    commit(repo, "a secret")
    write(repo, "apps/app.yaml", text.replace("hunter2-in-test-op", "hunter2-changed"))
    for form in ([], ["--markdown"], ["-o", "json"]):
        result = run("diff", str(repo / "apps/app.yaml"), "--base-ref", "HEAD", *form)
        assert result.exit_code == 0, result.stderr
        assert "Secret/default/creds" in result.stdout
        assert "hunter2" not in result.stdout
