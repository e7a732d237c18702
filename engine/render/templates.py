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
import hashlib
import importlib.util
import json
import marshal
import re
import types
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import jinja2
import jinja2.sandbox
import jinja2.utils
import yaml
from jinja2.exceptions import SecurityError

from engine import __version__
from engine.definitions.sources import CodeCache
from engine.render import budgets

MAX_POWER_BITS = 4096
#: Characters of one template: seven times the largest built-in. Jinja compiles about ten
#: thousand list elements a second, so a huge template could take minutes to compile.
MAX_TEMPLATE_CHARS = 64 * 1024

MAX_MESSAGE = 400
#: libyaml reads an implicit key only within 1024 characters; longer ones are made explicit.
MAX_SIMPLE_KEY = 1000

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
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
        text = _json(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot write a value of type {type(value).__name__}: {exc}") from None
    if len(text) > MAX_SIMPLE_KEY and _has_long_key(value):
        text = _flow(value)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def _has_long_key(value: Any) -> bool:
    """Whether a mapping in ``value`` has a key too long for a YAML implicit key."""
    if isinstance(value, dict):
        return any(
            len(_json(_key(k))) > MAX_SIMPLE_KEY or _has_long_key(v) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return any(_has_long_key(item) for item in value)
    return False


def _flow(value: Any) -> str:
    """``value`` as JSON, except that long mapping keys are YAML explicit keys (``? "k": v``)."""
    if isinstance(value, dict):
        entries = []
        for k, v in value.items():
            key = _json(_key(k))
            mark = "? " if len(key) > MAX_SIMPLE_KEY else ""
            entries.append(f"{mark}{key}: {_flow(v)}")
        return "{" + ", ".join(entries) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    return _json(value)


def _key(key: Any) -> str:
    """A mapping key as JSON writes it (JSON keys are strings)."""
    return key if isinstance(key, str) else _json(key)


def _finalize(value: Any) -> str:
    text = value if isinstance(value, YamlText) else json_literal(value)
    if len(text) > budgets.SMALL:
        budgets.charge(len(text))
    return text


def to_json(value: Any) -> YamlText:
    """Filter ``tojson``: the value as a JSON literal."""
    return YamlText(json_literal(value))


def json_marshal(value: Any) -> str:
    """Filter ``marshal``: the value as compact JSON text, a string (CUE's json.Marshal)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def to_yaml(value: Any, indent: int = 0) -> YamlText:
    """Filter ``toyaml(indent)``: collections as an indented block, scalars as JSON."""
    if not isinstance(value, Mapping | list) or not value:
        return YamlText(json_literal(value))
    plain = json.loads(json_literal(value))
    block = yaml.safe_dump(plain, default_flow_style=False, sort_keys=False, allow_unicode=True)
    budgets.charge(max(indent, 0) * (block.count("\n") + 1))
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
    raise TemplateFailure(one_line(str(message)))


def one_line(text: str) -> str:
    """``text`` as one line of bounded length: control characters escaped, the rest cut.

    Messages from templates embed property values; a newline in one must not be able
    to start what looks like another error line.
    """
    if len(text) > MAX_MESSAGE:
        text = f"{text[:MAX_MESSAGE]}... ({len(text) - MAX_MESSAGE} more characters)"
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class _Template(jinja2.Template):
    """A template whose every render gets a fresh work budget."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        token = budgets.start()
        try:
            return super().render(*args, **kwargs)
        finally:
            budgets.stop(token)


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """The immutable sandbox, with every growing operation charged to the work budget."""

    intercepted_binops = frozenset({"*", "**", "+", "-", "%"})
    code_generator_class = budgets.CodeGenerator
    template_class = _Template
    charge = staticmethod(budgets.charge)
    measured = staticmethod(budgets.measured)
    joined = staticmethod(budgets.joined)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """``x["items"]`` on a mapping is its key or undefined, never its method."""
        if type(obj) is dict and type(argument) is str:
            if argument in obj:
                return obj[argument]
            return self.undefined(obj=obj, name=argument)
        if type(argument) is slice:
            budgets.charge(budgets.size(obj))
        return super().getitem(obj, argument)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``x.name`` on a mapping is its key ``name``; a method name is the method.

        So ``labels.items()`` works whatever keys the user's labels have, and a key that
        is also a method name (``items``, ``values``, ``get``) is read as ``x["items"]``.
        Plain keys and values held by a ``namespace()`` are data, returned without the
        sandbox's per-attribute checks.
        """
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            if attribute in obj:
                return obj[attribute]
            return self.undefined(obj=obj, name=attribute)
        if type(obj) is jinja2.utils.Namespace and not attribute.startswith("_"):
            held = object.__getattribute__(obj, "_Namespace__attrs")
            if attribute in held:  # a value set with {% set ns.x = ... %}
                return held[attribute]
        return super().getattr(obj, attribute)

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        if operator == "**":
            _check_power(left, right)
        else:
            budgets.charge(_binop_cost(operator, left, right))
        result = super().call_binop(context, operator, left, right)
        if operator == "%":
            budgets.charge_text(result)
        elif type(result) is int and result.bit_length() > MAX_POWER_BITS:
            # each step is cheap, but squaring again and again doubles the digits each time
            raise SecurityError(f"the number is too large (over {MAX_POWER_BITS} bits)")
        return result

    def call(
        __self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """Call from template code, charging arguments and what the call may make."""
        args = budgets.charged_call(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        budgets.charge_text(result)
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` and ``str.format_map``, sandboxed, with their widths charged."""
        text = getattr(value, "__self__", None)
        name = getattr(value, "__name__", None)
        if not isinstance(text, str) or name not in ("format", "format_map"):
            return None
        vformat = _Formatter(self).vformat

        def formatted(*args: Any, **kwargs: Any) -> str:
            if name == "format_map":
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                return str(vformat(text, (), args[0]))
            return str(vformat(text, args, kwargs))

        return functools.update_wrapper(formatted, value)


class _Formatter(jinja2.sandbox.SandboxedFormatter):
    """Jinja's sandboxed ``str.format``, charging each field's width before padding it."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        budgets.charge(budgets.spec_cost(format_spec))
        return super().format_field(value, format_spec)


def _binop_cost(operator: str, left: Any, right: Any) -> int:
    """Elements or characters ``left <operator> right`` may make."""
    if operator == "*":
        if isinstance(left, str | list | tuple) and isinstance(right, int):
            return budgets.size(left) * max(right, 0)
        if isinstance(right, str | list | tuple) and isinstance(left, int):
            return budgets.size(right) * max(left, 0)
    elif operator == "+":
        return budgets.size(left) + budgets.size(right)
    elif operator == "%":
        return budgets.printf_cost(left, right)
    return 0


def _check_power(base: Any, exponent: Any) -> None:
    if not (isinstance(base, int) and isinstance(exponent, int)) or abs(base) < 2 or exponent < 1:
        return
    if exponent * abs(base).bit_length() > MAX_POWER_BITS:
        raise SecurityError(f"the power is too large (over {MAX_POWER_BITS} bits)")


FILTERS: dict[str, Callable[..., Any]] = {
    "tojson": to_json,
    "marshal": json_marshal,
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
    filters: dict[str, Callable[..., Any]] = env.filters
    for name, func in filters.items():
        filters[name] = budgets.charged_filter(func, budgets.FILTER_GROWTH.get(name))
    tests: dict[str, Callable[..., Any]] = env.tests  # type: ignore[assignment]
    for name, func in tests.items():
        if budgets.takes_arguments(func):  # a test of its value alone is quick
            tests[name] = budgets.charged_filter(func)
    env.globals.pop("lipsum", None)
    env.globals.update({"fail": fail, "merge": merge, "range": _range})
    return env


def _range(*args: int) -> range:
    """The sandbox's ``range``, its length charged."""
    return budgets.measured(jinja2.sandbox.safe_range(*args))  # type: ignore[no-any-return]


class TemplateTooLarge(ValueError):
    """A template longer than ``MAX_TEMPLATE_CHARS``."""


def check_size(source: str) -> None:
    """Refuse a template too large to compile in a few seconds."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateTooLarge(
            f"the template has {len(source):,} characters; at most {MAX_TEMPLATE_CHARS:,} "
            "are compiled (split it, or move data into the schema's defaults)"
        )


def compile_template(source: str, filename: str, cache: CodeCache | None = None) -> jinja2.Template:
    """Compile template source; syntax errors propagate as ``TemplateSyntaxError``.

    With ``cache``, compiled code is kept there between runs (keyed by sailplan
    version, Python bytecode version, file name and source), so a render need not
    recompile the same definitions every time. The cache verifies its entries;
    anything but a code object is ignored.
    """
    check_size(source)
    env = environment()
    key = _cache_key(source, filename)
    code = _cached_code(cache, key) if cache is not None else None
    if code is None:
        with budgets.budgeted():  # compiling folds constants: template code runs
            code = env.compile(source, name=filename, filename=filename)
        if cache is not None:
            cache.store(key, marshal.dumps(code))
    return env.template_class.from_code(env, code, env.make_globals(None))


def _cache_key(source: str, filename: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
    magic = importlib.util.MAGIC_NUMBER.hex()
    return f"sailplan-{__version__}-{budgets.CODE_VERSION}-py{magic}:{filename}:{digest}"


def _cached_code(cache: CodeCache, key: str) -> types.CodeType | None:
    data = cache.load(key)
    if data is None:
        return None
    try:
        code = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, types.CodeType) else None
