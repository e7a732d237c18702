"""The file-system edge: units by folder, environment files, atomic output trees."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.workspace import MARKER, input_files, read_text, read_units, write_tree


def test_write_tree_replaces_the_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / "build"
    write_tree(out, {"a/x.yaml": "x: 1\n", "b.yaml": "b\n"})
    write_tree(out, {"c.yaml": "c\n"})
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [MARKER, "c.yaml"]
    assert sorted(os.listdir(tmp_path)) == ["build"]


def test_write_tree_gives_the_folder_the_usual_mode(tmp_path: Path) -> None:
    out = tmp_path / "build"
    write_tree(out, {"a.yaml": "a\n"})
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask


@pytest.mark.parametrize("name", ["notes.txt", "app.yaml", ".git"])
def test_write_tree_never_replaces_a_folder_it_did_not_write(tmp_path: Path, name: str) -> None:
    out = tmp_path / "project"
    out.mkdir()
    (out / name).write_text("mine\n")
    with pytest.raises(InputError, match="not empty and was not written by sailplan"):
        write_tree(out, {"a.yaml": "a\n"})
    assert sorted(os.listdir(out)) == [name]


def test_write_tree_never_replaces_the_folder_of_an_input(tmp_path: Path) -> None:
    out = tmp_path / "build"
    write_tree(out, {"a.yaml": "a\n"})
    (out / "app.yaml").write_text("kind: Application\n")
    with pytest.raises(InputError, match="holds the input"):
        write_tree(out, {"a.yaml": "b\n"}, inputs=[out / "app.yaml"])
    assert (out / "app.yaml").exists()


def test_write_tree_fills_an_empty_folder(tmp_path: Path) -> None:
    out = tmp_path / "build"
    out.mkdir()
    write_tree(out, {"a.yaml": "a\n"})
    assert (out / "a.yaml").read_text() == "a\n"


def test_a_failed_write_leaves_the_old_tree(tmp_path: Path) -> None:
    out = tmp_path / "build"
    write_tree(out, {"keep.yaml": "k\n"})
    with pytest.raises(InputError, match="cannot write the output: File exists"):
        write_tree(out, {"ok.yaml": "1\n", "ok.yaml/below": "clash\n"})
    assert (out / "keep.yaml").read_text() == "k\n"
    assert sorted(os.listdir(tmp_path)) == ["build"]


def test_units_group_files_by_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for name in ("a/one.yaml", "a/two.yaml", "b/three.yaml"):
        (tmp_path / name).write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    units = read_units([str(tmp_path)])
    assert [len(u.documents) for u in units] == [2, 1]


def test_missing_input_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        read_units([str(tmp_path / "nope.yaml")])


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    files = input_files([str(tmp_path / "a.yaml"), str(tmp_path), f"{tmp_path}/./a.yaml"])
    assert files == [tmp_path / "a.yaml"]


def test_a_pipe_is_read_like_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    writer = threading.Thread(target=fifo.write_text, args=(text,))
    writer.start()
    try:
        assert read_text(input_files([str(fifo)])[0]) == text
    finally:
        writer.join()


def test_text_that_is_not_utf8_is_located_by_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"a: b\nc: \xff\n")
    with pytest.raises(InputError, match=r"bad\.yaml:2: not UTF-8 text: byte 0xff"):
        read_text(path)


def test_an_endless_input_stops_at_the_limit() -> None:
    with pytest.raises(InputError, match=r"/dev/zero: input is larger than the limit of 64 MiB"):
        read_text(Path("/dev/zero"))
