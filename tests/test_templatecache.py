"""The compiled-template cache: only a private folder, only entries it signed itself."""

from __future__ import annotations

import marshal
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.render.templates import compile_template
from engine.templatecache import KEY_FILE, FolderCache, open_cache

TEMPLATE = "output: {{ parameter.x | tojson }}\n"


def private(tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    return folder


def opened(folder: Path) -> FolderCache:
    cache, warning = open_cache(folder)
    assert warning is None and cache is not None
    return cache


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.code"))


def test_a_template_compiled_once_is_loaded_from_the_cache(tmp_path: Path) -> None:
    folder = private(tmp_path)
    first = compile_template(TEMPLATE, "t.j2", opened(folder))
    (entry,) = entries(folder)
    assert (folder / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert entry.stat().st_mode & 0o777 == 0o600
    stamp = entry.stat().st_mtime_ns
    second = compile_template(TEMPLATE, "t.j2", opened(folder))
    assert entry.stat().st_mtime_ns == stamp  # read, not written again
    assert first.render(parameter={"x": 1}) == second.render(parameter={"x": 1}) == "output: 1\n"


def _planted_code(marker: Path) -> bytes:
    """Code that would create ``marker`` if sailplan ever ran it."""
    return marshal.dumps(compile(f"open({str(marker)!r}, 'w').close()", "evil", "exec"))


def test_an_entry_written_by_someone_else_is_never_loaded(tmp_path: Path) -> None:
    folder = private(tmp_path)
    compile_template(TEMPLATE, "t.j2", opened(folder))
    (entry,) = entries(folder)
    marker = tmp_path / "pwned"
    raw = entry.read_bytes()
    header = raw[: raw.index(b"\n") + 1]
    # the header and a MAC of some other content: without the key no MAC can be right
    entry.write_bytes(header + raw[len(header) : len(header) + 32] + _planted_code(marker))
    template = compile_template(TEMPLATE, "t.j2", opened(folder))
    assert template.render(parameter={"x": 2}) == "output: 2\n"
    assert not marker.exists()
    assert entry.read_bytes() != header  # replaced by a good one


def test_an_entry_signed_with_another_key_is_not_loaded(tmp_path: Path) -> None:
    folder = private(tmp_path)
    marker = tmp_path / "pwned"
    cache = opened(folder)
    other = FolderCache(folder, b"k" * 32)
    compile_template(TEMPLATE, "t.j2", cache)
    key = _keys(TEMPLATE, "t.j2")[0]
    other.store(key, _planted_code(marker))
    assert cache.load(key) is None
    compile_template(TEMPLATE, "t.j2", cache).render(parameter={"x": 1})
    assert not marker.exists()


def _keys(source: str, filename: str) -> list[str]:
    from engine.render.templates import _cache_key

    return [_cache_key(source, filename)]


def test_a_folder_others_can_write_is_not_used(tmp_path: Path) -> None:
    folder = private(tmp_path)
    folder.chmod(0o777)
    cache, warning = open_cache(folder)
    assert cache is None
    assert warning is not None and "writable by group or others" in warning
    assert not (folder / KEY_FILE).exists()


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    folder = private(tmp_path)
    opened(folder)
    (folder / KEY_FILE).chmod(0o644)
    cache, warning = open_cache(folder)
    assert cache is None and warning is not None and "key file is readable by others" in warning


def test_a_key_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    folder = private(tmp_path)
    target = tmp_path / "elsewhere"
    target.write_bytes(b"k" * 32)
    target.chmod(0o600)
    (folder / KEY_FILE).symlink_to(target)
    cache, warning = open_cache(folder)
    assert cache is None and warning is not None and "key file" in warning


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder away needs root")
def test_a_folder_of_another_user_is_not_used(tmp_path: Path) -> None:
    folder = private(tmp_path)
    os.chown(folder, 65534, 65534)
    cache, warning = open_cache(folder)
    assert cache is None and warning is not None and "belongs to another user" in warning


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_an_entry_of_another_user_is_not_loaded(tmp_path: Path) -> None:
    folder = private(tmp_path)
    cache = opened(folder)
    compile_template(TEMPLATE, "t.j2", cache)
    (entry,) = entries(folder)
    os.chown(entry, 65534, 65534)
    assert cache.load(_keys(TEMPLATE, "t.j2")[0]) is None


def test_the_cli_warns_and_renders_without_an_unsafe_cache(tmp_path: Path) -> None:
    folder = private(tmp_path)
    folder.chmod(0o777)
    app = Path(__file__).parent.parent / "examples/environments/policies/my-app.yaml"
    result = CliRunner().invoke(main, ["render", str(app)], env={"SAILPLAN_CACHE_DIR": str(folder)})
    assert result.exit_code == 0, result.stderr
    assert f"warning: template cache {folder} not used" in result.stderr
    assert entries(folder) == []
