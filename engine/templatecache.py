"""Compiled templates kept between runs: the file-system edge of the template cache.

Cached template code is code sailplan runs, so a cache folder another user can write
would let them run code as whoever runs sailplan. The folder is therefore used only
when it belongs to the current user and neither group nor others may write it
(otherwise: a warning, and no cache), and an entry is loaded only if it carries an
HMAC-SHA256, under a per-user key, of its cache key and content. The key is 32 random
bytes in ``key`` in the folder, created by this user with mode 0600 and checked to be
theirs and private before use. Someone who could still write an entry (an earlier
loose mode, a swapped folder) cannot read the key, so cannot forge one; an entry that
fails the check is ignored and replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from pathlib import Path

KEY_FILE = "key"
_KEY_BYTES = 32
_HEADER = b"sailplan-code-1\n"
_SUFFIX = ".code"
#: Compiled templates are small; a bigger file is not ours.
_MAX_ENTRY = 16 * 2**20


class FolderCache:
    """A ``CodeCache`` in a folder checked by ``open_cache``; entries signed with ``key``."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder = folder
        self._key = key

    def load(self, key: str) -> bytes | None:
        raw = _read_private(self._entry(key), _MAX_ENTRY)
        if raw is None or not raw.startswith(_HEADER):
            return None
        mac, data = raw[len(_HEADER) : len(_HEADER) + 32], raw[len(_HEADER) + 32 :]
        return data if hmac.compare_digest(mac, self._mac(key, data)) else None

    def store(self, key: str, data: bytes) -> None:
        content = _HEADER + self._mac(key, data) + data
        with contextlib.suppress(OSError):  # a cache that cannot be written is no cache
            _write_private(self._entry(key), content)

    def _entry(self, key: str) -> Path:
        return self.folder / (hashlib.sha256(key.encode()).hexdigest() + _SUFFIX)

    def _mac(self, key: str, data: bytes) -> bytes:
        return hmac.new(self._key, key.encode() + b"\0" + data, hashlib.sha256).digest()


def open_cache(folder: Path) -> tuple[FolderCache | None, str | None]:
    """The cache in ``folder`` (made if missing), or None and a warning saying why not.

    A folder that cannot be made gives no cache and no warning (a read-only home).
    """
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return None, None
    problem = _unsafe(info, "folder")
    if problem is None:
        key, problem = _user_key(folder / KEY_FILE)
        if key is not None:
            return FolderCache(folder, key), None
    return None, f"template cache {folder} not used: {problem}"


def _unsafe(info: os.stat_result, what: str) -> str | None:
    if info.st_uid != os.geteuid():
        return f"the {what} belongs to another user (uid {info.st_uid})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"the {what} is writable by group or others (mode {stat.filemode(info.st_mode)})"
    return None


def _user_key(path: Path) -> tuple[bytes | None, str | None]:
    """The per-user key in ``path``, made on first use; or None and why it is refused."""
    for _ in range(2):  # a second try when another process made it meanwhile
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                _create_key(path)
            continue
        except OSError as exc:
            return None, f"cannot read its key file {path.name}: {exc.strerror}"
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            problem = _unsafe(info, "key file")
            if problem is None and info.st_mode & 0o077:
                problem = f"the key file is readable by others (mode {stat.filemode(info.st_mode)})"
            if problem is None and not stat.S_ISREG(info.st_mode):
                problem = "the key file is not a regular file"
            key = fh.read(_KEY_BYTES + 1)
        if problem is not None:
            return None, problem
        if len(key) != _KEY_BYTES:
            return None, f"its key file {path.name} is damaged; delete the folder to reset it"
        return key, None
    return None, f"cannot make its key file {path.name}"


def _create_key(path: Path) -> None:
    """Write a new random key, atomically: linked into place only if none is there."""
    fd, temporary = tempfile.mkstemp(prefix=".key.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(_KEY_BYTES))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _read_private(path: Path, limit: int) -> bytes | None:
    """A regular file of this user that others cannot write, never through a link."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or _unsafe(info, "entry") is not None:
            return None
        raw = fh.read(limit + 1)
    return raw if len(raw) <= limit else None


def _write_private(path: Path, content: bytes) -> None:
    fd, temporary = tempfile.mkstemp(prefix=".entry.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
