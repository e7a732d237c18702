"""The sandboxed Jinja environment definitions run in.

Definitions may come from third parties, so templates run in Jinja's immutable
sandbox with ``StrictUndefined``: no attribute tricks, no mutation of the parameters,
no unbounded ranges or string repetition, and a reference to anything undefined is an
error. Every ``{{ expression }}`` is finalised into one JSON literal (which YAML reads
as the same value), so a property holding ``: ``, a newline, ``{{`` or ``---`` can
never change the shape of the rendered document. ``tojson`` and ``toyaml`` mark text
as already serialised.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import jinja2
import jinja2.bccache
import jinja2.sandbox
import jinja2.utils
import yaml
from jinja2.exceptions import SecurityError

from engine import __version__

MAX_SEQUENCE = 1_000_000
MAX_POWER_BITS = 4096

_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


class YamlText(str):
    """Text that is already valid YAML for one value; pasted as is."""

    __slots__ = ()


class TemplateFailure(Exception):
    """Raised by ``fail("message")`` in a template: a user-facing error."""


_SIMPLE = re.compile(r"[A-Za-z0-9 _./:@=+,-]*\Z")


def json_literal(value: Any) -> str:
    """``value`` as one JSON literal that PyYAML reads back unchanged."""
    kind = type(value)
    if kind is str and _SIMPLE.match(value):
        return f'"{value}"'
    if kind is int:
        return str(value)
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot write a value of type {type(value).__name__}: {exc}") from None
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _finalize(value: Any) -> str:
    return value if isinstance(value, YamlText) else json_literal(value)


def to_json(value: Any) -> YamlText:
    """Filter ``tojson``: the value as a JSON literal."""
    return YamlText(json_literal(value))


def to_yaml(value: Any, indent: int = 0) -> YamlText:
    """Filter ``toyaml(indent)``: collections as an indented block, scalars as JSON."""
    if not isinstance(value, Mapping | list) or not value:
        return YamlText(json_literal(value))
    plain = json.loads(json_literal(value))
    block = yaml.safe_dump(plain, default_flow_style=False, sort_keys=False, allow_unicode=True)
    pad = " " * indent
    return YamlText("\n" + "".join(pad + line + "\n" for line in block.splitlines()).rstrip("\n"))


def merge(*maps: Mapping[str, Any] | None) -> dict[str, Any]:
    """Filter/function ``merge``: a new mapping with later keys winning."""
    out: dict[str, Any] = {}
    for item in maps:
        if item is None:
            continue
        if not isinstance(item, Mapping):
            raise TypeError(f"merge expects mappings, got {type(item).__name__}")
        out.update(item)
    return out


def omit(mapping: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """Filter ``omit``: a copy of a mapping without some keys."""
    return {k: v for k, v in mapping.items() if k not in keys}


def b64encode(value: str) -> str:
    """Filter ``b64encode``, for Secret data."""
    return base64.b64encode(str(value).encode("utf-8")).decode("ascii")


def fail(message: str) -> NoReturn:
    """Function ``fail(message)``: stop rendering with a user error (KubeVela's ``errs``)."""
    raise TemplateFailure(str(message))


class _Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """The immutable sandbox, with bounds on repetition and exponentiation."""

    intercepted_binops = frozenset({"*", "**"})

    def getitem(self, obj: Any, argument: Any) -> Any:
        """``x["items"]`` on a mapping is its key or undefined, never its method."""
        if type(obj) is dict and type(argument) is str:
            if argument in obj:
                return obj[argument]
            return self.undefined(obj=obj, name=argument)
        return super().getitem(obj, argument)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``x.items`` on a mapping prefers the key ``items`` over the method.

        Plain keys of a mapping and values held by a ``namespace()`` are data, not
        attributes, and are returned without the sandbox's per-attribute checks.
        """
        if type(obj) is dict:
            if attribute in obj:
                return obj[attribute]
            if not hasattr(dict, attribute):  # no key, no method: undefined, quickly
                return self.undefined(obj=obj, name=attribute)
        elif type(obj) is jinja2.utils.Namespace and not attribute.startswith("_"):
            held = object.__getattribute__(obj, "_Namespace__attrs")
            if attribute in held:  # a value set with {% set ns.x = ... %}
                return held[attribute]
        return super().getattr(obj, attribute)

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        if operator == "**":
            _check_power(left, right)
        return super().call_binop(context, operator, left, right)


def _check_repeat(seq: Any, times: Any) -> None:
    too_long = isinstance(seq, str | list | tuple) and isinstance(times, int)
    if too_long and len(seq) * times > MAX_SEQUENCE:
        raise SecurityError("the repetition makes a sequence too long")


def _check_power(base: Any, exponent: Any) -> None:
    if not (isinstance(base, int) and isinstance(exponent, int)) or abs(base) < 2 or exponent < 1:
        return
    if exponent * abs(base).bit_length() > MAX_POWER_BITS:
        raise SecurityError("the power is too large")


FILTERS: dict[str, Callable[..., Any]] = {
    "tojson": to_json,
    "toyaml": to_yaml,
    "merge": merge,
    "omit": omit,
    "b64encode": b64encode,
}


@functools.cache
def environment() -> jinja2.Environment:
    """The one sandboxed environment every definition template is compiled in."""
    env = _Sandbox(
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    env.globals.update({"fail": fail, "merge": merge})
    return env


def compile_template(source: str, filename: str, cache_dir: Path | None = None) -> jinja2.Template:
    """Compile template source; syntax errors propagate as ``TemplateSyntaxError``.

    With ``cache_dir``, compiled code is kept there between runs (Jinja's bytecode
    cache, keyed by sailplan version, file name and a checksum of the source), so a
    render need not recompile the same definitions every time.
    """
    env = environment()
    code = _cached_code(env, source, filename, cache_dir) if cache_dir else None
    if code is None:
        code = env.compile(source, name=filename, filename=filename)
        if cache_dir:
            _store_code(env, source, filename, cache_dir, code)
    return env.template_class.from_code(env, code, env.make_globals(None))


def _bucket(
    env: jinja2.Environment, source: str, filename: str, cache_dir: Path
) -> tuple[jinja2.bccache.FileSystemBytecodeCache, jinja2.bccache.Bucket]:
    cache = jinja2.bccache.FileSystemBytecodeCache(str(cache_dir), "%s.jinja")
    return cache, cache.get_bucket(env, f"sailplan-{__version__}:{filename}", filename, source)


def _cached_code(env: jinja2.Environment, source: str, filename: str, cache_dir: Path) -> Any:
    try:
        return _bucket(env, source, filename, cache_dir)[1].code
    except (OSError, ValueError, EOFError, TypeError):
        return None


def _store_code(
    env: jinja2.Environment, source: str, filename: str, cache_dir: Path, code: Any
) -> None:
    try:
        cache, bucket = _bucket(env, source, filename, cache_dir)
        bucket.code = code
        cache.set_bucket(bucket)
    except OSError:
        pass  # a cache that cannot be written is no cache
