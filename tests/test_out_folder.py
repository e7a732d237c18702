"""``render --all-envs --out DIR``: nothing is written outside DIR, nothing overwritten.

Names of objects, environments and clusters come from other people's files; each
failure class of the hardening issue is a case here (files under ``tests/cases/out/``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cli import main
from engine.build import Build
from engine.environments import Preview, preview_files
from engine.errors import BuildError, InputError
from engine.model import Manifest
from engine.model.filenames import MAX_COMPONENT_BYTES
from engine.workspace import MARKER, write_tree

CASES = Path(__file__).parent / "cases" / "out"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def written(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_name_with_dotdot_is_an_error_naming_object_and_source(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("render", str(CASES / "dotdot-name"), "--all-envs", "--out", str(out))
    assert result.exit_code == 1
    assert "ConfigMap/default/../../escaped" in result.stderr
    assert "objects.yaml" in result.stderr
    assert "cannot be a file name" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["out"] or not os.listdir(tmp_path)


def test_colliding_names_never_share_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("render", str(CASES / "colliding-names"), "--all-envs", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    files = [p for p in written(out) if p.name != MARKER]
    assert len(files) == 4
    folded = {str(p).casefold() for p in files}
    assert len(folded) == 4  # distinct on a case-insensitive file system too
    ids = {
        (d["metadata"]["namespace"], d["metadata"]["name"])
        for p in files
        for d in yaml.safe_load_all(p.read_text())
        if d
    }
    assert ids == {("x", "a-b"), ("a", "b"), ("c", "b"), ("y", "A-B")}


def test_an_empty_out_is_a_usage_error(tmp_path: Path) -> None:
    result = run("render", str(CASES / "colliding-names"), "--all-envs", "--out", "")
    assert result.exit_code == 2
    assert "--out needs a folder name" in result.stderr


def test_an_out_folder_under_a_file_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "out"
    result = run("render", str(CASES / "colliding-names"), "--all-envs", "--out", str(out))
    assert result.exit_code == 1
    assert "cannot make the output folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "file").read_text() == "x"


def test_an_out_folder_in_a_symlink_loop_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    result = run(
        "render", str(CASES / "colliding-names"), "--all-envs", "--out", str(tmp_path / "a")
    )
    assert result.exit_code == 1
    assert "output folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_write_tree_refuses_paths_that_leave_the_folder(tmp_path: Path) -> None:
    for bad in ("../x.yaml", "/etc/x.yaml", "a/../../x.yaml", "a//b.yaml", "a/\0.yaml"):
        with pytest.raises(InputError, match="leaves the folder"):
            write_tree(tmp_path / "out", {bad: "x"})
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "x.yaml").exists()


def test_an_over_long_name_is_cut_with_a_digest(tmp_path: Path) -> None:
    long_a, long_b = "a" * 300, "a" * 299 + "b"
    files = preview_files(
        [_preview("", [_manifest("ConfigMap", n, "default") for n in (long_a, long_b)])]
    )
    names = [Path(p).name for p in files]
    assert len(set(names)) == 2
    assert all(len(n.encode()) <= MAX_COMPONENT_BYTES for n in names)
    write_tree(tmp_path / "out", files)
    assert len(written(tmp_path / "out")) == 3


def test_hidden_and_control_names_are_refused() -> None:
    for name in (".sailplan-output", "a\nb", "a\0b", "a/b", ".."):
        with pytest.raises(BuildError, match=r"environment name .* cannot be a file name"):
            preview_files([_preview(name, [_manifest("ConfigMap", "web", "")])])
    for name in ("a\nb", "a\0b", "a/b", "../../x"):
        with pytest.raises(BuildError, match=r"object name .* cannot be a file name"):
            preview_files([_preview("prod", [_manifest("ConfigMap", name, "")])])


# -- random names through --out --------------------------------------------------------

_PIECES = st.sampled_from(
    [*"/.\\\0\n-_ ~:*?", "..", "../", "é", "ß", "İ", "\u0301", "😀", "\ud800", *"abcXYZ019"]
)
_NAMES = st.one_of(
    st.lists(_PIECES, max_size=12).map("".join),
    st.text(max_size=12),
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "."]), st.integers(250, 300)),
)
#: Mostly names Kubernetes takes, sometimes hostile ones: both outcomes get exercised.
_SAFE = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,30}", fullmatch=True)
_MIXED = st.integers(0, 4).flatmap(lambda i: _NAMES if i == 0 else _SAFE)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    objects=st.lists(st.tuples(_MIXED, _MIXED, _MIXED, _MIXED), min_size=1, max_size=6),
    env=_MIXED,
)
def test_random_names_never_leave_the_out_folder(
    tmp_path_factory: pytest.TempPathFactory,
    objects: list[tuple[str, str, str, str]],
    env: str,
) -> None:
    base = tmp_path_factory.mktemp("random")
    root = base / "out"
    manifests = [_manifest(k, n, ns, cluster=c) for k, n, ns, c in objects]
    try:
        files = preview_files([_preview(env, manifests)])
    except BuildError as exc:
        assert "cannot be a file name" in str(exc)
        event("refused")
        return
    event("written")
    assert len({p.casefold() for p in files}) == len(files)  # no two objects on one file
    write_tree(root, files)
    inside = os.path.realpath(root)
    for path in base.rglob("*"):
        real = os.path.realpath(path)
        assert real == inside or real.startswith(inside + os.sep), path
    assert len(written(root)) == len(files) + 1  # and the marker


def _manifest(kind: str, name: str, namespace: str, *, cluster: str = "") -> Manifest:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return Manifest(
        {"apiVersion": "v1", "kind": kind, "metadata": meta}, "app/web", cluster=cluster
    )


def _preview(name: str, manifests: list[Manifest]) -> Preview:
    return Preview(name, Build(tuple(manifests), ()))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(objects=st.lists(st.tuples(_MIXED, _MIXED, _MIXED), min_size=1, max_size=4))
def test_random_names_through_the_command_line(
    tmp_path_factory: pytest.TempPathFactory, objects: list[tuple[str, str, str]]
) -> None:
    base = tmp_path_factory.mktemp("cli")
    (base / "app").mkdir()
    docs = [
        json.dumps(
            {"apiVersion": "v1", "kind": k or "ConfigMap", "metadata": {"name": n, "namespace": ns}}
        )
        for k, n, ns in objects
    ]
    (base / "app" / "objects.yaml").write_text(
        "\n---\n".join(docs), encoding="utf-8", errors="surrogatepass"
    )
    result = run("render", str(base / "app"), "--all-envs", "--out", str(base / "out"))
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.stderr
    event("written" if result.exit_code == 0 else "refused")
    inside = os.path.realpath(base / "out")
    for path in base.rglob("*"):
        real = os.path.realpath(path)
        assert real.startswith((inside + os.sep, str(base / "app"))) or real == inside, path
    if result.exit_code == 0:
        assert len(written(base / "out")) == len(objects) + 1
