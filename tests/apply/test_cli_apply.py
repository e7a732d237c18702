"""The apply commands' argument checks, which need no cluster."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cli import main

SEED = Path(__file__).resolve().parents[2] / "examples/gitops-demo/apps/my-app.yaml"

REMOTE = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: far, namespace: default}
spec:
  components:
  - {name: web, type: webservice, properties: {image: nginx}}
  policies:
  - name: eu
    type: topology
    properties: {clusters: [prod-eu], namespace: shop}
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"NO_COLOR": "1"})
    return result.exit_code, result.output


def test_env_and_all_envs_exclude_each_other() -> None:
    code, out = run("apply", str(SEED), "--env", "x", "--all-envs")
    assert code == 2 and "choose one of --env and --all-envs" in out


def test_a_bad_timeout_is_a_usage_error() -> None:
    code, out = run("apply", str(SEED), "--timeout", "5 minutes")
    assert code == 2 and "write it like 90s, 5m or 1h30m" in out


def test_a_cluster_without_a_context_is_named(tmp_path: Path) -> None:
    app = tmp_path / "far.yaml"
    app.write_text(REMOTE)
    code, out = run("apply", str(app), "--kubeconfig", str(tmp_path / "none"))
    assert code == 1
    assert "topology cluster 'prod-eu' has no kubeconfig context" in out
    assert "--cluster-context prod-eu=CONTEXT" in out
    code, out = run("apply", str(app), "--cluster-context", "prod-eu")
    assert code == 2 and "write NAME=CONTEXT" in out


def test_diff_live_excludes_base_ref() -> None:
    code, out = run("diff", str(SEED), "--live", "--base-ref", "HEAD")
    assert code == 2 and "choose one of --live and --base-ref" in out


def test_cluster_commands_are_listed() -> None:
    code, out = run("--help")
    assert code == 0
    for name in ("apply", "status", "ls", "history", "rollback", "delete"):
        assert f"  {name} " in out


def test_terminal_progress_is_coloured_and_shows_what_is_awaited() -> None:
    import io

    from rich.console import Console

    from engine.apply.applier import Event
    from sailplan_cli.apply import Printer

    printer = Printer("text")
    buffer = io.StringIO()
    printer.console = Console(file=buffer, force_terminal=True, color_system="standard", width=200)
    printer.event(Event("wave", "web", message="2 object(s)"))
    printer.event(Event("change", "Deployment/ns/web", "created"))
    printer.event(Event("health", "Deployment/ns/web", "InProgress", "ready replicas: 0/1"))
    assert printer.spinner is not None
    assert printer.waiting == {"Deployment/ns/web": "InProgress: ready replicas: 0/1"}
    printer.event(Event("health", "Deployment/ns/web", "Current", "Ready:1/1"))
    assert printer.spinner is None and not printer.waiting
    printer.summary({}, "ns/app: revision 1 deployed")
    text = buffer.getvalue()
    assert "\x1b[" in text  # coloured
    assert "Deployment/ns/web created" in text and "healthy: Deployment/ns/web" in text


def test_plain_and_json_progress() -> None:
    import json

    from click.testing import CliRunner

    from engine.apply.applier import Event
    from sailplan_cli.apply import Printer

    runner = CliRunner()
    with runner.isolation() as (out, _err, *_):
        plain = Printer("text")
        assert plain.console is None  # not a terminal: plain lines
        plain.event(Event("change", "Service/ns/web", "unchanged"))
        as_json = Printer("json")
        as_json.event(Event("change", "Service/ns/web", "configured", "why"))
    lines = out.getvalue().decode().splitlines()
    assert lines[0] == "Service/ns/web unchanged"
    assert json.loads(lines[1]) == {
        "type": "change",
        "object": "Service/ns/web",
        "action": "configured",
        "message": "why",
    }
