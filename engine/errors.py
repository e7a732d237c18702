"""Errors a user can cause, each naming where it came from.

Every failure that bad input can trigger is a ``SailplanError`` carrying a
``SourceLocation`` (file, line, YAML path), so the CLI can print one line such as
``apps/my-app.yaml:14: spec.components[0].properties.port: 'abc' is not of type
'integer'`` and exit 1 without a traceback.

Tree::

    SailplanError
    ├── InputError        unreadable, malformed or unsafe YAML/JSON input
    ├── SchemaError       input that does not match a JSON Schema
    ├── DefinitionError   a definition folder that is broken (author error)
    ├── TemplateError     a template that failed while rendering (author or user error)
    ├── PatchError        a patch that cannot be applied
    ├── BuildError        an Application that cannot be built (cycles, duplicates, ...)
    ├── ClusterError      the cluster refused or failed an object: ``Kind/namespace/name: ...``
    ├── GitError          git failed: no git, not a repository, an unknown ref, a bad tree
    ├── RegistryError     an OCI registry failed: unreachable, unauthorised, unknown image
    ├── ImagePolicyError  an image policy that cannot choose a tag
    └── WorkflowError     a workflow operation that cannot be done

The edges (``engine.apply``, ``engine.gitops``) raise the cluster, git and registry
errors; the cause (the ``kubernetes`` or git failure) is kept as ``__cause__``, never
printed with credentials.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

#: Characters of one unbroken word (a quoted value, a path, an argument) a message shows.
MAX_WORD = 200
_LONG_WORD = re.compile(rf"\S{{{MAX_WORD + 1},}}")
_TAIL = re.compile(r"[^\w.]{1,4}\Z")


def brief(message: str) -> str:
    """``message`` with every over-long word cut: a 100 KB argument is not echoed back.

    The reason around the words stays whole, so the message still says what is wrong.
    """
    return _LONG_WORD.sub(_cut, message)


def _cut(match: re.Match[str]) -> str:
    word = match.group()
    keep = MAX_WORD // 2
    tail = _TAIL.search(word)  # closing quotes and punctuation stay
    end = tail.group() if tail else ""
    return f"{word[:keep]}...({len(word) - keep - len(end):,} more characters){end}"


class SourceLocation:
    """A place in an input: file, 1-based line (if known) and YAML path.

    The line may be given as ``line_of``, a function that finds it: mapping a YAML
    path to a line re-reads the file, which only error messages need, so it is done
    only when the line is first asked for. Otherwise a value: equal and hashable.
    """

    __slots__ = ("_line", "_line_of", "file", "yaml_path")

    def __init__(
        self,
        file: str = "",
        line: int | None = None,
        yaml_path: str = "",
        *,
        line_of: Callable[[], int | None] | None = None,
    ) -> None:
        self.file = file
        self.yaml_path = yaml_path
        self._line = line
        self._line_of = line_of

    @property
    def line(self) -> int | None:
        if self._line_of is not None:
            self._line, self._line_of = self._line_of(), None
        return self._line

    def _key(self) -> tuple[str, int | None, str]:
        return (self.file, self.line, self.yaml_path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceLocation) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"SourceLocation({self.file!r}, {self.line!r}, {self.yaml_path!r})"

    def __str__(self) -> str:
        head = self.file
        if head and self.line is not None:
            head = f"{head}:{self.line}"
        parts = [p for p in (head, self.yaml_path) if p]
        return ": ".join(parts)


class SailplanError(Exception):
    """Base of every error a user can cause; ``str()`` is the one-line message."""

    def __init__(self, message: str, *, location: SourceLocation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        where = str(self.location) if self.location else ""
        return f"{where}: {self.message}" if where else self.message


class InputError(SailplanError):
    """Unreadable, malformed or unsafe input (YAML syntax, alias bombs, size)."""


class SchemaError(SailplanError):
    """Input that does not satisfy a JSON Schema."""


class DefinitionError(SailplanError):
    """A broken definition folder: bad metadata, schema or template syntax."""


class TemplateError(SailplanError):
    """A template failed while rendering, or called ``fail()``."""


class PatchError(SailplanError):
    """A patch that cannot be applied to its target."""


class BuildError(SailplanError):
    """An Application that cannot be built: unknown types, cycles, duplicates."""


class ClusterError(SailplanError):
    """The cluster refused or failed a request about an object; the message starts with its id.

    ``str()`` is ``Kind/namespace/name: message (file:line)``, as Flux names objects
    (``Kind/name`` for cluster-scoped ones), with the source of the component that
    produced the object at the end when known. ``status`` is the HTTP status when the
    server answered; ``cause`` (also ``__cause__``) the underlying exception.
    """

    def __init__(
        self,
        message: str,
        *,
        subject: str = "",
        location: SourceLocation | None = None,
        status: int = 0,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, location=location)
        self.subject = subject
        self.status = status
        self.cause = cause
        if cause is not None:
            self.__cause__ = cause

    @classmethod
    def of(
        cls,
        obj: Mapping[str, Any],
        message: str,
        *,
        location: SourceLocation | None = None,
        cause: BaseException | None = None,
    ) -> ClusterError:
        """The error about the Kubernetes object ``obj`` (a manifest as a mapping)."""
        return cls(message, subject=object_id(obj), location=location, cause=cause)

    def __str__(self) -> str:
        head = f"{self.subject}: " if self.subject else ""
        where = f" ({self.location})" if self.location else ""
        return f"{head}{self.message}{where}"


def object_id(obj: Mapping[str, Any]) -> str:
    """``Kind/namespace/name`` of a manifest, or ``Kind/name`` without a namespace."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    parts = [str(obj.get("kind") or "<no kind>"), str(meta.get("namespace") or "")]
    parts.append(str(meta.get("name") or "<no name>"))
    return "/".join(p for p in parts if p)


class GitError(SailplanError):
    """git failed: not installed, not a repository, an unknown ref, an unreadable tree."""


class RegistryError(SailplanError):
    """An OCI registry failed: unreachable, unauthorised, unknown repository or tag."""


class WorkflowError(SailplanError):
    """A workflow operation that cannot be done (resume a run that is not suspended, ...)."""


class ImagePolicyError(SailplanError):
    """An image policy or tag filter that cannot choose a tag (Flux's wording)."""
