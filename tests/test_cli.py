"""The command line: output, exit codes (0 ok, 1 error, 2 usage) and error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from engine import __version__
from tests.conftest import EXAMPLES, ROOT

SEED = str(EXAMPLES / "gitops-demo/apps/my-app.yaml")
EXAMPLE_FILES = [
    str(EXAMPLES / "gitops-demo/apps/my-app.yaml"),
    str(EXAMPLES / "gitops-demo/infrastructure/mysql.yaml"),
    str(EXAMPLES / "gitops-demo/clusters/apps.yaml"),
]


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output == f"sailplan, version {__version__}\n"


def test_render_prints_each_document_under_its_source() -> None:
    result = run("render", SEED)
    assert result.exit_code == 0, result.output
    sources = [line for line in result.stdout.splitlines() if line.startswith("# Source:")]
    assert sources == [
        "# Source: my-app/my-server",
        "# Source: my-app/my-server/gateway",
        "# Source: my-app/my-server/gateway",
    ]
    assert result.stdout.startswith("---\n# Source: my-app/my-server\napiVersion: apps/v1\n")


def test_render_json_and_stdin() -> None:
    result = run("render", "-", "-o", "json", stdin=Path(SEED).read_text())
    assert result.exit_code == 0
    kinds = [obj["kind"] for obj in json.loads(result.stdout)]
    assert kinds == ["Deployment", "Service", "Ingress"]


def test_render_a_folder_of_applications(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(Path(SEED).read_text())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/b.yml").write_text(
        Path(SEED)
        .read_text()
        .replace("name: my-app", "name: other")
        .replace("namespace: default", "namespace: other")
    )
    (tmp_path / ".hidden.yaml").write_text("not: [valid")
    result = run("render", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("# Source:") == 6


def test_validate_summary() -> None:
    result = run("validate", SEED)
    assert result.exit_code == 0
    assert result.stdout == "ok: 1 file(s), 1 application(s), 3 object(s)\n"


def test_validate_reports_every_bad_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("a: [\n")
    (tmp_path / "b.yaml").write_text(Path(SEED).read_text().replace("replicas: 1", "replicas: one"))
    result = run("validate", str(tmp_path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {tmp_path / 'a.yaml'}:2: invalid YAML")
    assert lines[1] == (
        f"error: {tmp_path / 'b.yaml'}:24: spec.components[0].traits[0].properties.replicas: "
        "'one' is not of type 'integer' (trait scaler)"
    )
    assert lines[2] == "2 error(s) in 2 file(s)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [\n", "invalid YAML"),
        (
            "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: x}\n"
            "spec:\n  components:\n    - name: a\n      type: nope\n",
            "unknown component type 'nope'",
        ),
    ],
)
def test_errors_are_one_line_exit_1(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = run("render", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"error: {path}:")
    assert message in result.stderr


def test_missing_file_is_an_error() -> None:
    result = run("render", "does-not-exist.yaml")
    assert result.exit_code == 1
    assert result.stderr == "error: does-not-exist.yaml: no such file or directory\n"


@pytest.mark.parametrize(
    "args", [("render",), ("render", SEED, "--bogus"), ("render", SEED, "-o", "xml"), ("nope",)]
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    assert run(*args).exit_code == 2


@pytest.mark.parametrize("version", ["one", "1", "2.0", "0.30", "1.x", ""])
def test_a_bad_kube_version_is_a_usage_error(version: str) -> None:
    result = run("render", SEED, "--kube-version", version)
    assert result.exit_code == 2
    assert f"invalid Kubernetes version {version!r}; expected 1.MINOR" in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("a: [\n")
    result = run("--debug", "render", str(path))
    assert result.exit_code == 1
    assert "Traceback" in result.stderr


def test_def_list_and_show() -> None:
    listed = run("def", "list")
    assert listed.exit_code == 0
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["NAME", "KIND", "DESCRIPTION"]
    names = {row.split()[0] for row in rows}
    assert {"webservice", "gateway", "scaler"} <= names

    shown = run("def", "show", "gateway")
    assert shown.exit_code == 0
    assert shown.stdout.startswith("gateway (trait): Enable public web traffic")
    http = next(line for line in shown.stdout.splitlines() if line.startswith("http "))
    assert http.split()[:3] == ["http", "map[string]integer", "true"]


def test_def_show_unknown_suggests() -> None:
    result = run("def", "show", "gatway")
    assert result.exit_code == 1
    assert result.stderr == "error: no definition called 'gatway'; did you mean 'gateway'?\n"


def test_shadowing_is_reported_once(tmp_path: Path) -> None:
    folder = tmp_path / "scaler"
    folder.mkdir()
    for name in ("definition.yaml", "schema.json", "template.yaml.j2"):
        source = ROOT / "definitions/traits/scaler" / name
        (folder / name).write_text(source.read_text())
    result = run("render", SEED, "-d", str(tmp_path))
    assert result.exit_code == 0
    assert result.stderr.count("shadows the built-in one") == 1


def test_alias_bomb_is_rejected_quickly(tmp_path: Path) -> None:
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(rows) + "\n")
    started = time.perf_counter()
    result = run("render", str(path))
    assert time.perf_counter() - started < 1.0
    assert result.exit_code == 1
    assert "alias bomb" in result.stderr


def test_a_20_mib_input_renders(tmp_path: Path) -> None:
    blob = "x" * (1024 * 1024)
    data = {f"key{i}": blob for i in range(20)}
    app = {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": "big"},
        "spec": {
            "components": [
                {
                    "name": "data",
                    "type": "k8s-objects",
                    "properties": {
                        "objects": [
                            {
                                "apiVersion": "v1",
                                "kind": "ConfigMap",
                                "metadata": {"name": "big"},
                                "data": data,
                            }
                        ]
                    },
                }
            ]
        },
    }
    path = tmp_path / "big.yaml"
    path.write_text(json.dumps(app))
    assert path.stat().st_size > 20 * 1024 * 1024
    result = run("render", str(path), "-o", "json")
    assert result.exit_code == 0, result.stderr
    [obj] = json.loads(result.stdout)
    assert obj["data"]["key19"] == blob


def test_the_installed_command_runs_from_anywhere(tmp_path: Path) -> None:
    """The console script, run from another directory, finds the bundled definitions."""
    command = [sys.executable, "-c", "import cli; cli.main()", "render", SEED]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "kind: Ingress" in done.stdout


def test_output_is_byte_identical_across_processes(tmp_path: Path) -> None:
    """Hash randomisation or caches must not change a single byte."""
    outputs = set()
    for seed, cache in (("1", "on"), ("2", "off"), ("3", "on")):
        env = {**os.environ, "PYTHONHASHSEED": seed, "SAILPLAN_CACHE_DIR": str(tmp_path)}
        if cache == "off":
            env["SAILPLAN_NO_CACHE"] = "1"
        command = [sys.executable, "-c", "import cli; cli.main()", "render", *EXAMPLE_FILES]
        done = subprocess.run(command, capture_output=True, env=env, check=True, cwd=ROOT)
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_render_never_imports_the_cluster_client() -> None:
    code = (
        "import sys, cli\n"
        "try:\n    cli.main(['render', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(','.join(m for m in sys.modules if m.split('.')[0] in "
        "('kubernetes', 'rich', 'jsonpatch')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, SEED], capture_output=True, text=True, check=True
    )
    assert done.stderr == ""


def test_stdin_named_beside_the_same_file_is_read_once_and_checked_whole() -> None:
    text = Path(SEED).read_text()
    result = run("validate", SEED, "-", stdin=text)
    assert result.exit_code == 1
    assert "duplicate object Deployment/default/my-server" in result.stderr
    assert run("validate", "-", "-", stdin=text).exit_code == 0
