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
    ├── GitError          a git remote or repository that cannot be read or pushed to
    ├── RegistryError     an OCI registry that cannot be reached or refuses us
    └── ImagePolicyError  an image policy that cannot choose a tag
"""

from __future__ import annotations

from collections.abc import Callable


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


class GitError(SailplanError):
    """A git remote or repository that cannot be cloned, fetched or pushed to."""


class RegistryError(SailplanError):
    """An OCI registry that cannot be reached, refuses the credentials or answers badly."""


class ImagePolicyError(SailplanError):
    """An image policy or tag filter that cannot choose a tag (Flux's wording)."""
