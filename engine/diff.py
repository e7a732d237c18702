"""What changes between two builds, object by object: the core of ``sailplan diff``.

Reviewers need to see what a change does to the cluster, not how the input text moved:
two builds are compared object by object (matched by cluster and identity), and each
object that is added, changed or removed comes with a unified diff of its YAML.
Everything here is pure: manifests in, values and text out, the same bytes every time.

Secret ``data`` and ``stringData`` values are never shown. As ``kubectl diff`` does,
each value becomes ``***``; when one key holds different values on the two sides they
become ``*** (before)`` and ``*** (after)``, so a change stays visible without
revealing either value, or any hash of it. Copies of the values elsewhere (the
``last-applied-configuration`` annotation, an object that changed kind to or from
Secret) are masked in the diff text too (``engine.model.secrets``).
"""

from __future__ import annotations

import dataclasses
import difflib
import html
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from engine.model import Manifest, ResourceId, to_yaml
from engine.model.environment import LOCAL_CLUSTER
from engine.model.secrets import (
    MASK,
    SECRET_FIELDS,
    is_secret,
    mask_copies,
    redact_text,
    secret_values,
)

Action = Literal["added", "changed", "removed"]

MASK_BEFORE = "*** (before)"
MASK_AFTER = "*** (after)"
NO_FILE = "/dev/null"
NO_ENVIRONMENTS = "(no environments)"

_RED, _GREEN, _CYAN, _BOLD, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[1m", "\x1b[0m"

Key = tuple[str, str, str, str, str]


@dataclasses.dataclass(frozen=True)
class ObjectDiff:
    """One object that differs: its identity on each side and a unified diff of its YAML."""

    action: Action
    old: ResourceId | None
    new: ResourceId | None
    old_cluster: str
    new_cluster: str
    diff: str

    @property
    def label(self) -> str:
        """``Kind/namespace/name`` (``@cluster`` when not local), as of the newer side."""
        if self.new is not None:
            return _label(self.new, self.new_cluster)
        assert self.old is not None
        return _label(self.old, self.old_cluster)

    @property
    def old_label(self) -> str:
        """The older side's label when the object moved (other namespace or cluster)."""
        if self.old is None or self.new is None:
            return ""
        old = _label(self.old, self.old_cluster)
        return old if old != self.label else ""


@dataclasses.dataclass(frozen=True)
class Summary:
    """How many objects were added, changed, removed, and left as they were."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0

    @property
    def differs(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def __add__(self, other: Summary) -> Summary:
        return Summary(*(a + b for a, b in zip(_counts(self), _counts(other), strict=True)))

    def __str__(self) -> str:
        return (
            f"{self.added} added, {self.changed} changed, {self.removed} removed, "
            f"{self.unchanged} unchanged"
        )


@dataclasses.dataclass(frozen=True)
class Diff:
    """The objects that differ between two builds, in output order, and the counts."""

    objects: tuple[ObjectDiff, ...]
    summary: Summary

    @property
    def differs(self) -> bool:
        return self.summary.differs


@dataclasses.dataclass(frozen=True)
class EnvironmentDiff:
    """The diff of one environment: ``old`` and ``new`` name the environment on each side.

    A name is ``None`` where that side lacks the environment (everything added or
    removed) and ``""`` for a build without environments.
    """

    old: str | None
    new: str | None
    diff: Diff

    @property
    def name(self) -> str:
        """The environment as reviewers know it: the newer side's name if it has one."""
        return self.new if self.new is not None else (self.old or "")

    @property
    def title(self) -> str:
        """``prod``, ``prod (new environment)``, ``staging → prod``, ..."""
        if self.old is None:
            return f"{_env_name(self.new)} (new environment)"
        if self.new is None:
            return f"{_env_name(self.old)} (environment removed)"
        if self.old == self.new:
            return _env_name(self.new)
        return f"{_env_name(self.old)} → {_env_name(self.new)}"


@dataclasses.dataclass(frozen=True)
class Report:
    """What ``sailplan diff`` shows: the two sides compared and a diff per environment."""

    old: str
    new: str
    environments: tuple[EnvironmentDiff, ...]

    @property
    def summary(self) -> Summary:
        return sum((e.diff.summary for e in self.environments), Summary())

    @property
    def differs(self) -> bool:
        return any(e.diff.differs for e in self.environments)


# -- comparing -------------------------------------------------------------------------


def diff_manifests(
    old: Sequence[Manifest], new: Sequence[Manifest], *, match_moved: bool = False
) -> Diff:
    """The objects that differ between ``old`` and ``new``, matched by cluster and identity.

    Entries come in the newer side's order, then removed objects in the older side's
    order. With ``match_moved``, an object found on each side in another namespace or
    cluster only (one candidate each) counts as changed rather than removed and added,
    which is what comparing two environments of one application needs.
    """
    old_by_key = {_key(m): m for m in old}
    new_by_key = {_key(m): m for m in new}
    secrets = secret_values([m.object for m in (*old, *new)])
    pairs: dict[Key, Key] = {k: k for k in new_by_key if k in old_by_key}
    if match_moved:
        pairs.update(_moved(old_by_key, new_by_key, pairs))
    paired_old = set(pairs.values())
    objects: list[ObjectDiff] = []
    unchanged = 0
    for key, manifest in new_by_key.items():
        before = old_by_key[pairs[key]] if key in pairs else None
        if before is not None and _same(before, manifest):
            unchanged += 1
        else:
            objects.append(_entry(before, manifest, secrets))
    objects.extend(_entry(m, None, secrets) for k, m in old_by_key.items() if k not in paired_old)
    return Diff(tuple(objects), _summary(objects, unchanged))


def diff_environments(
    old: Mapping[str, Sequence[Manifest]], new: Mapping[str, Sequence[Manifest]]
) -> tuple[EnvironmentDiff, ...]:
    """One diff per environment name (``""``: no environments), in the newer side's order.

    An environment on one side only has every object added or removed (a side that
    builds nothing has no environments). When one side has no environments and the
    other has some, each environment is compared with the build that had none: that is
    what introducing (or dropping) environments does.
    """
    if _nothing(old) and "" not in new:
        old = {}
    if _nothing(new) and "" not in old:
        new = {}
    if list(old) == [""] and "" not in new and new:
        return tuple(EnvironmentDiff("", n, diff_manifests(old[""], new[n])) for n in new)
    if list(new) == [""] and "" not in old and old:
        return tuple(EnvironmentDiff(n, "", diff_manifests(old[n], new[""])) for n in old)
    names = list(new) + [n for n in old if n not in new]
    return tuple(
        EnvironmentDiff(
            n if n in old else None,
            n if n in new else None,
            diff_manifests(old.get(n, ()), new.get(n, ())),
        )
        for n in names
    )


def _nothing(builds: Mapping[str, Sequence[Manifest]]) -> bool:
    """A side without environments or objects, such as a path that does not exist there."""
    return list(builds) == [""] and not builds[""]


def mask_secrets(old: Any, new: Any) -> tuple[Any, Any]:
    """Both sides of one object with Secret values masked (anything else unchanged).

    Equal values become ``***`` on both sides; different values ``*** (before)`` and
    ``*** (after)``; a value on one side only ``***``. Annotations holding a copy of a
    value (``last-applied-configuration``) are masked too.
    """
    if not (is_secret(old) or is_secret(new)):
        return old, new
    values = secret_values([old, new])
    old_out = _masked_annotations(old, values)
    new_out = _masked_annotations(new, values)
    for field in SECRET_FIELDS:
        before = old_out.get(field) if is_secret(old_out) else None
        after = new_out.get(field) if is_secret(new_out) else None
        masked_before, masked_after = _mask_values(before, after)
        if is_secret(old_out) and field in old_out:
            old_out[field] = masked_before
        if is_secret(new_out) and field in new_out:
            new_out[field] = masked_after
    return old_out, new_out


def _masked_annotations(obj: Any, values: frozenset[str]) -> Any:
    if not isinstance(obj, Mapping):
        return obj
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("annotations"), Mapping):
        annotations = {k: mask_copies(v, values) for k, v in meta["annotations"].items()}
        out["metadata"] = {**meta, "annotations": annotations}
    return out


def _mask_values(before: Any, after: Any) -> tuple[Any, Any]:
    if not (isinstance(before, Mapping) and isinstance(after, Mapping)):
        return _mask_all(before), _mask_all(after)
    masked_before = {
        k: MASK_BEFORE if k in after and after[k] != v else MASK for k, v in before.items()
    }
    masked_after = {
        k: MASK_AFTER if k in before and before[k] != v else MASK for k, v in after.items()
    }
    return masked_before, masked_after


def _mask_all(values: Any) -> Any:
    if values is None:
        return None
    if isinstance(values, Mapping):
        return dict.fromkeys(values, MASK)
    return MASK


def _key(manifest: Manifest) -> Key:
    return (_cluster(manifest.cluster), *manifest.id.key())


def _cluster(cluster: str) -> str:
    return cluster or LOCAL_CLUSTER


def _moved(
    old_by_key: Mapping[Key, Manifest], new_by_key: Mapping[Key, Manifest], pairs: Mapping[Key, Key]
) -> dict[Key, Key]:
    """Unpaired objects that match by group, kind and name alone, one on each side."""
    taken = set(pairs.values())
    old_left = _by_kind_and_name(k for k in old_by_key if k not in taken)
    new_left = _by_kind_and_name(k for k in new_by_key if k not in pairs)
    return {
        news[0]: old_left[ident][0]
        for ident, news in new_left.items()
        if len(news) == 1 and len(old_left.get(ident, ())) == 1
    }


def _by_kind_and_name(keys: Iterable[Key]) -> dict[tuple[str, str, str], list[Key]]:
    groups: dict[tuple[str, str, str], list[Key]] = {}
    for key in keys:
        _cluster_name, group, kind, _namespace, name = key
        groups.setdefault((group, kind, name), []).append(key)
    return groups


def _same(old: Manifest, new: Manifest) -> bool:
    """Equal content in the same place (``True`` and ``1`` differ, key order doesn't)."""
    return _key(old) == _key(new) and _canonical(old.object) == _canonical(new.object)


def _entry(old: Manifest | None, new: Manifest | None, secrets: frozenset[str]) -> ObjectDiff:
    """The entry for one object that differs (``None``: absent on that side).

    ``secrets`` are the Secret values of both builds: a copy of one in any object (say,
    a ConfigMap that was a Secret on the other side) is masked in the text too.
    """
    action: Action = "changed" if old and new else ("added" if new else "removed")
    shown_old, shown_new = mask_secrets(old.object if old else None, new.object if new else None)
    old_id, new_id = (m.id if m else None for m in (old, new))
    old_cluster, new_cluster = (_cluster(m.cluster) if m else "" for m in (old, new))
    text = _unified(
        shown_old,
        shown_new,
        f"a/{_label(old_id, old_cluster)}" if old_id else NO_FILE,
        f"b/{_label(new_id, new_cluster)}" if new_id else NO_FILE,
    )
    return ObjectDiff(action, old_id, new_id, old_cluster, new_cluster, redact_text(text, secrets))


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _unified(old: Any, new: Any, old_file: str, new_file: str) -> str:
    old_lines = to_yaml(old).splitlines() if old is not None else []
    new_lines = to_yaml(new).splitlines() if new is not None else []
    lines = difflib.unified_diff(old_lines, new_lines, old_file, new_file, lineterm="")
    return "".join(line + "\n" for line in lines)


def _label(ident: ResourceId, cluster: str) -> str:
    return str(ident) + ("" if cluster in ("", LOCAL_CLUSTER) else f"@{cluster}")


def _summary(objects: Sequence[ObjectDiff], unchanged: int) -> Summary:
    count = {action: sum(1 for o in objects if o.action == action) for action in _ACTIONS}
    return Summary(count["added"], count["changed"], count["removed"], unchanged)


_ACTIONS: tuple[Action, ...] = ("added", "changed", "removed")


def _counts(summary: Summary) -> tuple[int, int, int, int]:
    return (summary.added, summary.changed, summary.removed, summary.unchanged)


def _env_name(name: str | None) -> str:
    return name or NO_ENVIRONMENTS


def select_environments(report: Report, names: Sequence[str]) -> Report:
    """The report restricted to environments named in ``names`` (either side's name)."""
    kept = tuple(e for e in report.environments if e.old in names or e.new in names)
    return dataclasses.replace(report, environments=kept)


# -- formatting ------------------------------------------------------------------------


def format_text(report: Report, *, color: bool = False) -> str:
    """For a terminal: per environment a heading, each object's diff, a summary line."""
    paint = _painter(color)
    out = [paint(_BOLD, f"diff {report.old} → {report.new}") + "\n"]
    for env in report.environments:
        out.append("\n" + paint(_BOLD, f"# Environment: {env.title}") + "\n")
        for obj in env.diff.objects:
            out.append(paint(_BOLD, _headline(obj)) + "\n")
            out.extend(_paint_line(line, paint) + "\n" for line in obj.diff.splitlines())
        out.append(f"{env.title}: {_summary_line(env.diff.summary)}\n")
    out.append("\n" + paint(_BOLD, _total_line(report)) + "\n")
    return "".join(out)


def format_json(report: Report) -> str:
    """For machines: the sides, the totals, and per environment every differing object."""
    body = {
        "old": report.old,
        "new": report.new,
        "differs": report.differs,
        "summary": _summary_json(report.summary),
        "environments": [_environment_json(e) for e in report.environments],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def format_markdown(report: Report) -> str:
    """For a pull-request comment: per environment a heading, a summary, a diff per object."""
    out = [f"## sailplan diff: {_code(report.old)} → {_code(report.new)}\n\n"]
    out.append(f"{_total_line(report)}\n")
    for env in report.environments:
        out.append(f"\n### {_code(env.title)}\n\n{_summary_line(env.diff.summary)}\n")
        out.extend(_details(obj) for obj in env.diff.objects)
    return "".join(out)


def _painter(color: bool) -> Callable[[str, str], str]:
    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color and text else text

    return paint


def _paint_line(line: str, paint: Callable[[str, str], str]) -> str:
    if line.startswith(("---", "+++")):
        return paint(_BOLD, line)
    if line.startswith("@@"):
        return paint(_CYAN, line)
    if line.startswith("-"):
        return paint(_RED, line)
    if line.startswith("+"):
        return paint(_GREEN, line)
    return line


def _headline(obj: ObjectDiff) -> str:
    moved = f" (was {obj.old_label})" if obj.old_label else ""
    return f"{obj.action}: {obj.label}{moved}"


def _summary_line(summary: Summary) -> str:
    return str(summary) if summary.differs else f"no differences ({summary.unchanged} unchanged)"


def _total_line(report: Report) -> str:
    count = len(report.environments)
    where = f"in {count} environment{'s' if count != 1 else ''}"
    if not report.differs:
        return f"no differences {where}"
    return f"{_summary_line(report.summary)} {where}"


def _summary_json(summary: Summary) -> dict[str, int]:
    return dict(zip(("added", "changed", "removed", "unchanged"), _counts(summary), strict=True))


def _environment_json(env: EnvironmentDiff) -> dict[str, Any]:
    return {
        "name": env.name,
        "old": env.old,
        "new": env.new,
        "differs": env.diff.differs,
        "summary": _summary_json(env.diff.summary),
        "objects": [_object_json(o) for o in env.diff.objects],
    }


def _object_json(obj: ObjectDiff) -> dict[str, Any]:
    return {
        "action": obj.action,
        "id": obj.label,
        "old": _id_json(obj.old, obj.old_cluster),
        "new": _id_json(obj.new, obj.new_cluster),
        "diff": obj.diff,
    }


def _id_json(ident: ResourceId | None, cluster: str) -> dict[str, str] | None:
    if ident is None:
        return None
    return {
        "cluster": cluster,
        "apiVersion": ident.api_version,
        "kind": ident.kind,
        "namespace": ident.namespace,
        "name": ident.name,
    }


def _details(obj: ObjectDiff) -> str:
    moved = f" (was <code>{html.escape(obj.old_label)}</code>)" if obj.old_label else ""
    fence = "`" * max(3, _longest_backtick_run(obj.diff) + 1)
    return (
        f"\n<details>\n<summary>{obj.action}: <code>{html.escape(obj.label)}</code>{moved}"
        f"</summary>\n\n{fence}diff\n{obj.diff}{fence}\n\n</details>\n"
    )


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest


def _code(text: str) -> str:
    """Markdown inline code that survives backticks in ``text``."""
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
