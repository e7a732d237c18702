"""JSON Schema checks with errors users can act on.

One place turns ``jsonschema`` errors into ``SchemaError`` with file, line and YAML
path, and rewrites the messages people trip over most: unknown properties get the
list of valid ones and a "did you mean" suggestion (KubeVela silently ignores typos,
kubevela/kubevela#2463), missing ones are named.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from engine import data
from engine.errors import SchemaError, SourceLocation
from engine.model import fastcheck, regexes
from engine.model.paths import YamlPath
from engine.model.secrets import redacted, secret_values

if TYPE_CHECKING:
    import jsonschema.exceptions
    import jsonschema.protocols
    import referencing

Locate = Callable[[YamlPath], SourceLocation]


_ANNOTATIONS = frozenset({"description", "title", "default", "examples", "deprecated", "$comment"})
_LITERALS = frozenset({"enum", "const", "default", "examples"})
#: Characters of a value quoted in a message.
_QUOTED = 80


@dataclasses.dataclass(frozen=True)
class Compiled:
    """A schema ready to check: a fast yes/no test where possible, jsonschema for the rest.

    The jsonschema validator is made on first use: valid input rarely needs it, and
    importing jsonschema is a third of a small render's start-up.
    """

    schema: Mapping[str, Any]  # local $refs inlined
    fast: fastcheck.Check | None
    registry: Callable[[], referencing.Registry[Any]] | None = None

    @functools.cached_property
    def validator(self) -> jsonschema.protocols.Validator:
        import jsonschema

        cls = linear_validator(
            jsonschema.validators.validator_for(
                self.schema, default=jsonschema.Draft202012Validator
            )
        )
        validator: jsonschema.protocols.Validator
        if self.registry is None:
            validator = cls(self.schema)
        else:
            validator = cls(self.schema, registry=self.registry())
        return validator

    def is_valid(self, instance: Any) -> bool:
        if self.fast is not None:
            return self.fast(instance)
        return bool(self.validator.is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[jsonschema.exceptions.ValidationError]:
        return self.validator.iter_errors(instance)


def compile_schema(
    schema: Mapping[str, Any], registry: Callable[[], referencing.Registry[Any]] | None = None
) -> Compiled:
    """A compiled ``schema`` (its ``$schema`` picks the draft; 2020-12 by default).

    Local ``$ref``s are inlined first: resolving them at every validation is most of
    jsonschema's cost, and definition schemas use them heavily. Valid input is then
    recognised by ``fastcheck``'s compiled test; jsonschema explains invalid input.
    ``registry`` gives the schemas that non-local ``$ref``s name.
    """
    inlined = inline_refs(schema)
    return Compiled(inlined, fastcheck.compile_check(inlined), registry)


def inline_refs(schema: Any, root: Any = None, seen: tuple[str, ...] = ()) -> Any:
    """``schema`` with local ``#/...`` references replaced by their targets (not recursive ones)."""
    root = schema if root is None else root
    if isinstance(schema, list):
        return [inline_refs(item, root, seen) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    out = {
        key: value if key in _LITERALS else inline_refs(value, root, seen)
        for key, value in schema.items()
        if key != "$ref"
    }
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return out
    target = fastcheck.pointer(root, ref) if ref.startswith("#/") and ref not in seen else None
    if target is None:
        return {**out, "$ref": ref}
    resolved = inline_refs(target, root, (*seen, ref))
    if not isinstance(resolved, Mapping):
        return resolved if not out else {"allOf": [resolved, out]}
    if set(out) - _ANNOTATIONS & set(resolved):
        return {"allOf": [resolved, out]}
    return {**resolved, **out}


@functools.cache
def linear_validator(cls: type[jsonschema.protocols.Validator]) -> Any:
    """``cls`` (a jsonschema validator class) matching every pattern with RE2.

    jsonschema matches ``pattern`` and ``patternProperties`` (also inside
    ``additionalProperties``) with Python's backtracking ``re``; user schemas are untrusted.
    """
    import jsonschema.validators

    return jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        cls,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
        },
    )


def _pattern(validator: Any, pattern: Any, instance: Any, _: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, _: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, extra: Any, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [
        key
        for key in instance
        if key not in known and not any(_search(pattern, key) for pattern in patterns)
    ]
    if validator.is_type(extra, "object"):
        for key in extras:
            yield from validator.descend(instance[key], extra, path=key)
    elif not extra and extras:
        listed = ", ".join(repr(key) for key in sorted(extras, key=str))
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            regexes_ = ", ".join(repr(p) for p in sorted(patterns))
            yield ValidationError(f"{listed} {verb} not match any of the regexes: {regexes_}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(
                f"Additional properties are not allowed ({listed} {verb} unexpected)"
            )


def _search(pattern: Any, text: str) -> bool:
    """Whether ``pattern`` (checked when its schema loaded) occurs in ``text``."""
    try:
        return regexes.compile(pattern).search(text) is not None
    except regexes.RegexError as exc:
        raise SchemaError(f"schema pattern {exc}") from None


@functools.cache
def _document(name: str) -> dict[str, Any]:
    """A bundled schema, with references into the other bundled schemas inlined."""
    document: dict[str, Any] = _inline_bundled(json.loads(data.schema_text(name)))
    return document


def _inline_bundled(schema: Any) -> Any:
    """``schema`` with ``other.schema.json#/...`` references replaced by their targets.

    The fast check follows only local references; with these inlined, every bundled
    schema gets one and jsonschema is needed only to explain invalid input.
    """
    if isinstance(schema, list):
        return [_inline_bundled(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    out = {key: _inline_bundled(value) for key, value in schema.items()}
    ref = out.get("$ref")
    if not isinstance(ref, str) or ref.startswith("#") or ".schema.json#/" not in ref:
        return out
    name, _, pointer = ref.partition(".schema.json#")
    other = _document(name)
    target = inline_refs({"$ref": "#" + pointer}, other)
    del out["$ref"]
    return {**target, **out} if not set(out) - _ANNOTATIONS else {"allOf": [target, out]}


@functools.cache
def _bundled_registry() -> referencing.Registry[Any]:
    """Every bundled schema by its ``$id``, so they can refer to each other."""
    import referencing

    documents = [_document(name) for name in data.schema_names()]
    return referencing.Registry().with_resources(
        (doc["$id"], referencing.Resource.from_contents(doc)) for doc in documents
    )


@functools.cache
def bundled(name: str) -> Compiled:
    """The compiled validator of one of the engine's own schemas (``schemas/``)."""
    return compile_schema(_document(name), _bundled_registry)


@functools.cache
def bundled_part(name: str, part: str) -> Compiled:
    """The validator of one ``$defs`` entry of a bundled schema, e.g. policies/topology."""
    document = _document(name)
    return compile_schema({**document, "$ref": f"#/$defs/{part}"}, _bundled_registry)


def check(
    validator: Compiled,
    instance: Any,
    locate: Locate,
    *,
    base: YamlPath = (),
    subject: str = "",
) -> None:
    """Raise a SchemaError for the most relevant violation of ``instance``, if any."""
    if validator.is_valid(instance):
        return
    import jsonschema.exceptions

    errors = list(validator.iter_errors(instance))
    error = _misspelt(errors) or jsonschema.exceptions.best_match(errors)
    if error is None:  # pragma: no cover - is_valid said otherwise
        return
    path, message = explain(error)
    if subject:
        message = f"{message} ({subject})"
    # the message may quote a value: never one of a Secret in the instance
    raise redacted(SchemaError(message, location=locate(base + path)), secret_values(instance))


def all_errors(
    validator: Compiled, instance: Any, locate: Locate, limit: int = 20
) -> list[SchemaError]:
    """Every violation of ``instance`` (at most ``limit``), each located, in path order.

    Alternatives (``anyOf``, ``oneOf``) give their most relevant violation only.
    """
    if validator.is_valid(instance):
        return []
    import jsonschema.exceptions

    found: list[SchemaError] = []
    seen: set[str] = set()
    secrets = secret_values(instance)  # a message may quote a value: never a Secret's
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.path])
    for error in errors:
        best = jsonschema.exceptions.best_match([error]) or error
        path, message = explain(best)
        located = redacted(SchemaError(message, location=locate(path)), secrets)
        if str(located) not in seen:
            seen.add(str(located))
            found.append(located)
        if len(found) >= limit:
            break
    return found


def _misspelt(
    errors: list[jsonschema.exceptions.ValidationError],
) -> jsonschema.exceptions.ValidationError | None:
    """An unknown property where a required one is missing: most likely a typo of it.

    ``typo: webservice`` then reads "unknown property 'typo'; did you mean 'type'?"
    rather than "missing required property 'type'".
    """
    missing = {tuple(e.absolute_path) for e in errors if e.validator == "required"}
    return next(
        (
            e
            for e in errors
            if e.validator == "additionalProperties" and tuple(e.absolute_path) in missing
        ),
        None,
    )


def explain(error: jsonschema.exceptions.ValidationError) -> tuple[YamlPath, str]:
    """The YAML path and a readable message for one schema violation."""
    path: YamlPath = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return _unknown_property(path, error)
    instance: Any = error.instance
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = [k for k in error.validator_value if k not in instance]
        return (
            path,
            f"missing required property {_quote(missing[0] if missing else '?')}",
        )
    if error.validator == "const":
        return path, f"{_short(error.instance)} must be {_short(error.validator_value)}"
    return path, _bounded(error.message, error.instance)


def _bounded(message: str, instance: Any = None, limit: int = 300) -> str:
    """A message that quotes a huge value, cut to a readable length.

    The quoted value is cut first, so the reason after it ("is not of type 'integer'")
    stays; only what is still too long is cut at the end.
    """
    if len(message) <= limit:
        return message
    shown = repr(instance)
    if len(shown) > _QUOTED and shown in message:
        cut = f"{shown[:_QUOTED]}... ({len(shown) - _QUOTED:,} more characters)"
        message = message.replace(shown, cut, 1)
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _unknown_property(
    path: YamlPath, error: jsonschema.exceptions.ValidationError
) -> tuple[YamlPath, str]:
    schema: Any = error.schema
    instance: Any = error.instance
    known = sorted((schema.get("properties") or {}).keys()) if isinstance(schema, dict) else []
    unknown = [k for k in instance if k not in known]
    key = unknown[0] if unknown else "?"
    message = f"unknown property {_quote(key)}"
    hint = suggest(key, known)
    if hint:
        message += f"; did you mean {_quote(hint)}?"
    if known:
        joiner = " Valid" if hint else "; valid"
        message += f"{joiner} properties: {', '.join(known)}"
    return path + (key,), message


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt ``word``, if one is close enough."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _quote(value: str) -> str:
    return repr(value)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
