"""Generate ``engine/patch/_mergekeys.py``, the strategic-merge table of the patch engine.

Why: strategic merge patch needs, for every list in a Kubernetes object, whether it merges
element-wise and by which key (containers by ``name``, volumeMounts by ``mountPath``, ports by
``containerPort`` + ``protocol`` ...). The Kubernetes OpenAPI schemas say so through
``x-kubernetes-patch-strategy``, ``x-kubernetes-patch-merge-key`` and
``x-kubernetes-list-map-keys``. The ``kubernetes_validate`` package ships those schemas (about
1.8 MB per Kubernetes version), far too much to load on every ``sailplan render``; this script
distils them once into a small Python table committed to the repository. The runtime never
imports ``kubernetes_validate``.

The table keeps only what changes a merge: fields with a ``merge`` or ``replace`` strategy,
plus the fields that lead to them (``Deployment.spec`` -> ``DeploymentSpec.template`` -> ...).
Lists without a strategy are replaced whole, like fields the table does not know.

Usage::

    python scripts/gen_merge_keys.py            # rewrite engine/patch/_mergekeys.py
    python scripts/gen_merge_keys.py --check    # exit 1 if the file is out of date

The output is deterministic (sorted), so re-running it on the same schemas changes nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

REPO = pathlib.Path(__file__).resolve().parent.parent
OUTPUT = REPO / "engine" / "patch" / "_mergekeys.py"

# Key parts of composite list keys that the API server defaults when they are omitted.
# The schemas only say so in prose ("Defaults to \"TCP\""), so they are listed here; the
# script fails if a composite merge key has an optional part that is not listed.
KEY_PART_DEFAULTS: dict[tuple[str, str], str] = {
    ("io.k8s.api.core.v1.ContainerPort", "protocol"): "TCP",
    ("io.k8s.api.core.v1.ServicePort", "protocol"): "TCP",
}

# Prefixes dropped from definition names to keep the table small.
SHORTEN = re.compile(r"^io\.k8s\.(api\.|apimachinery\.pkg\.apis\.|[a-z-]+\.pkg\.apis\.)")

Field = tuple[str | None, bool, tuple[str, ...], str]


def schema_dir(version: str | None) -> pathlib.Path:
    """Return the kubernetes_validate schema folder of ``version`` (default: the newest)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        sys.exit("kubernetes_validate is not installed (it is a dev dependency)")
    root = pathlib.Path(spec.origin).parent / "kubernetes-json-schema"
    found = {p.name.removesuffix("-local"): p for p in root.glob("v*-local")}
    if not found:
        sys.exit(f"no schema folders under {root}")
    chosen = version or max(found, key=version_key)
    if chosen not in found:
        sys.exit(f"schema version {chosen} not found; have {', '.join(sorted(found))}")
    return found[chosen]


def version_key(name: str) -> tuple[int, ...]:
    """Sort key of ``v1.37.0``."""
    return tuple(int(part) for part in re.findall(r"\d+", name))


def ref_name(schema: Mapping[str, Any]) -> str | None:
    """Definition named by ``$ref`` in ``schema``, if any."""
    ref = schema.get("$ref")
    if not isinstance(ref, str) or "/$defs/" not in ref:
        return None
    return ref.rsplit("/$defs/", 1)[1]


def field_info(owner: str, schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Field:
    """Describe one property: (definition of value or items, is-list, keys, strategy)."""
    items = schema.get("items")
    is_list = isinstance(items, Mapping)
    target = ref_name(items) if isinstance(items, Mapping) else ref_name(schema)
    raw = str(schema.get("x-kubernetes-patch-strategy", ""))
    parts = [part for part in raw.split(",") if part in ("merge", "replace")]
    strategy = parts[0] if parts else ""
    keys: tuple[str, ...] = ()
    if strategy == "merge" and is_list:
        keys = merge_keys(schema)
        check_key_defaults(owner, target, keys, defs)
    return (target, is_list, keys, strategy)


def merge_keys(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The list's keys: ``x-kubernetes-list-map-keys`` when given, else the merge key."""
    map_keys = schema.get("x-kubernetes-list-map-keys")
    if schema.get("x-kubernetes-list-type") == "map" and isinstance(map_keys, list):
        return tuple(str(key) for key in map_keys)
    merge_key = schema.get("x-kubernetes-patch-merge-key")
    return (str(merge_key),) if merge_key else ()


def check_key_defaults(
    owner: str, item: str | None, keys: tuple[str, ...], defs: Mapping[str, Any]
) -> None:
    """Fail when a composite key has an optional part without a known default."""
    if len(keys) < 2 or item is None:
        return
    required = set(defs.get(item, {}).get("required", []))
    for key in keys[1:]:
        if key not in required and (item, key) not in KEY_PART_DEFAULTS:
            sys.exit(f"{owner}: key part {item}.{key} is optional and has no known default")


def all_fields(defs: Mapping[str, Any]) -> dict[str, dict[str, Field]]:
    """Every definition's fields that reference something or carry a strategy."""
    table: dict[str, dict[str, Field]] = {}
    for name, definition in defs.items():
        fields: dict[str, Field] = {}
        for prop, schema in (definition.get("properties") or {}).items():
            if isinstance(schema, Mapping):
                info = field_info(name, schema, defs)
                if info[0] is not None or info[3]:
                    fields[prop] = info
        extra = definition.get("additionalProperties")
        if isinstance(extra, Mapping) and ref_name(extra):
            fields["*"] = (ref_name(extra), False, (), "")
        table[name] = fields
    return table


def leads_somewhere(info: Field, interesting: set[str]) -> bool:
    """Whether a field changes a merge, itself or below it."""
    target, is_list, _keys, strategy = info
    if strategy:
        return True
    return not is_list and target in interesting


def prune(table: Mapping[str, Mapping[str, Field]]) -> dict[str, dict[str, Field]]:
    """Keep only definitions and fields that change a merge (fixed point)."""
    interesting: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, fields in table.items():
            if name not in interesting and any(
                leads_somewhere(info, interesting) for info in fields.values()
            ):
                interesting.add(name)
                changed = True
    return {
        name: {
            prop: drop_dead_target(info, interesting)
            for prop, info in fields.items()
            if leads_somewhere(info, interesting)
        }
        for name, fields in table.items()
        if name in interesting
    }


def drop_dead_target(info: Field, interesting: set[str]) -> Field:
    """Forget the item definition of a field when nothing below it (or its keys) matters."""
    target, is_list, keys, strategy = info
    keep = target in interesting or any((target, key) in KEY_PART_DEFAULTS for key in keys)
    return (target if keep else None, is_list, keys, strategy)


def short_names(names: Iterable[str]) -> dict[str, str]:
    """Short unique definition names: ``io.k8s.api.core.v1.PodSpec`` -> ``core.v1.PodSpec``."""
    result = {name: SHORTEN.sub("", name) for name in names}
    if len(set(result.values())) != len(result):
        sys.exit("shortened definition names collide; adjust SHORTEN")
    return result


def rename(
    fields: Mapping[str, Mapping[str, Field]], short: Mapping[str, str]
) -> dict[str, dict[str, Field]]:
    """The table with short definition names."""
    return {
        short[name]: {
            prop: (short.get(target, target) if target else None, is_list, keys, strategy)
            for prop, (target, is_list, keys, strategy) in props.items()
        }
        for name, props in fields.items()
    }


def roots(defs: Mapping[str, Any], kept: Iterable[str]) -> dict[tuple[str, str], str]:
    """(apiVersion, kind) -> root definition, for the kept definitions."""
    wanted = set(kept)
    result: dict[tuple[str, str], str] = {}
    for name, definition in defs.items():
        if name not in wanted:
            continue
        for gvk in definition.get("x-kubernetes-group-version-kind") or []:
            group, version = gvk.get("group", ""), gvk["version"]
            api_version = f"{group}/{version}" if group else version
            result[(api_version, gvk["kind"])] = name
    return result


def key_defaults(fields: Mapping[str, Mapping[str, Field]]) -> dict[str, dict[str, str]]:
    """Item definition -> key part -> default, for the composite keys in the table."""
    result: dict[str, dict[str, str]] = {}
    for props in fields.values():
        for target, _is_list, keys, _strategy in props.values():
            for key in keys:
                default = KEY_PART_DEFAULTS.get((target or "", key))
                if default is not None and target is not None:
                    result.setdefault(target, {})[key] = default
    return result


HEADER = '''"""Strategic-merge metadata of the Kubernetes API.

Generated by scripts/gen_merge_keys.py, do not edit.
Source: kubernetes_validate {source}/_definitions.json
"""

# fmt: off
# ruff: noqa: E501

KUBERNETES_VERSION = {version}

# definition -> field -> (definition of the value or of the list items, is-list,
#                         merge keys, strategy); '*' is the value of any map key.
# strategy 'merge' on a list: merge element-wise by the keys (no keys: as a set);
# strategy 'replace' on a map: replace it whole; '' leads to fields below.
'''


def render(
    source: str,
    fields: Mapping[str, Mapping[str, Field]],
    gvks: Mapping[tuple[str, str], str],
    defaults: Mapping[str, Mapping[str, str]],
) -> str:
    """The Python source of the generated module."""
    version = json.dumps(source.removesuffix("-local"))
    return "\n".join(
        [
            HEADER.format(source=source, version=version).rstrip("\n"),
            *render_fields(fields),
            "",
            "# (apiVersion, kind) -> root definition",
            "ROOTS: dict[tuple[str, str], str] = {",
            *(f"    ({q(v)}, {q(k)}): {q(name)}," for (v, k), name in sorted(gvks.items())),
            "}",
            "",
            "# list item definition -> key part -> value the API server defaults it to",
            "KEY_DEFAULTS: dict[str, dict[str, str]] = {",
            *(f"    {q(name)}: {render_dict(parts)}," for name, parts in sorted(defaults.items())),
            "}",
            "",
        ]
    )


def render_fields(fields: Mapping[str, Mapping[str, Field]]) -> list[str]:
    """The ``FIELDS`` dict literal, sorted."""
    lines = ["FIELDS: dict[str, dict[str, tuple[str | None, bool, tuple[str, ...], str]]] = {"]
    for name in sorted(fields):
        lines.append(f"    {q(name)}: {{")
        for prop in sorted(fields[name]):
            target, is_list, keys, strategy = fields[name][prop]
            key_src = "(" + ", ".join(q(k) for k in keys) + ("," if len(keys) == 1 else "") + ")"
            target_src = q(target) if target else "None"
            lines.append(f"        {q(prop)}: ({target_src}, {is_list}, {key_src}, {q(strategy)}),")
        lines.append("    },")
    lines.append("}")
    return lines


def render_dict(parts: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{q(k)}: {q(v)}" for k, v in sorted(parts.items())) + "}"


def q(text: str) -> str:
    """A Python string literal (JSON's double-quoted form is valid Python)."""
    return json.dumps(text)


def generate(version: str | None) -> str:
    """Build the module source from the installed schemas."""
    folder = schema_dir(version)
    with (folder / "_definitions.json").open(encoding="utf-8") as handle:
        defs = json.load(handle)["$defs"]
    fields = prune(all_fields(defs))
    gvks = roots(defs, fields)
    defaults = key_defaults(fields)
    short = short_names(defs)
    return render(
        folder.name,
        rename(fields, short),
        {gvk: short[name] for gvk, name in gvks.items()},
        {short[name]: parts for name, parts in defaults.items()},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kube-version", help="schema version, e.g. v1.37.0 (default: newest)")
    parser.add_argument("--output", type=pathlib.Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    args = parser.parse_args(argv)
    source = generate(args.kube_version)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != source:
            print(f"{args.output} is out of date; run {pathlib.Path(__file__).name}")
            return 1
        return 0
    args.output.write_text(source, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
