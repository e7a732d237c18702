"""``image-update``: registry tags → policy → marker rewrite → commit → push, per source.

Each ``kustomize`` component with ``imageRepository`` in the SOURCE Application is one
automation, as KubeVela's fluxcd addon turns it into an ImageRepository, an ImagePolicy and
an ImageUpdateAutomation named after the component in the Application's namespace
(reference §6): its markers are ``# {"$imagepolicy": "<namespace>:<component>"}``, it scans
only ``path``, checks out and pushes to ``git.branch``, and its message is
``Update image automatically.`` plus ``commitMessage``. As in Flux, every policy of the same
namespace is applied (an automation sees all ImagePolicies of its namespace). A commit is
made only when a marked value changed; a push rejected because the branch moved is retried
on the new head with the setters applied again.
"""

from __future__ import annotations

import dataclasses
import difflib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml

from engine.errors import GitError, ImagePolicyError, SailplanError, SourceLocation
from engine.gitops import commits, policies, registry, setters
from engine.gitops.git import Git, GitAuth, Ref
from engine.model import Document, is_application, parse_application

MAX_PUSH_ATTEMPTS = 5


class SecretSource(Protocol):
    """Where Secrets named by ``secretRef`` are read from (files now, the cluster later)."""

    def get(self, namespace: str, name: str) -> Mapping[str, bytes]:
        """The decoded ``data`` of Secret ``namespace/name``; SailplanError if absent."""
        ...


@dataclasses.dataclass(frozen=True)
class Automation:
    """One ``kustomize`` component's image automation."""

    namespace: str
    name: str
    url: str
    ref: Ref
    path: str
    secret_ref: str
    image: str
    image_secret_ref: str
    policy: policies.Policy
    pattern: str
    extract: str
    message: str
    location: SourceLocation

    @property
    def marker(self) -> str:
        """The setter name markers use: ``namespace:component``."""
        return f"{self.namespace}:{self.name}"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one automation did."""

    automation: Automation
    tag: str
    changes: tuple[setters.Change, ...] = ()
    diff: str = ""
    commit: str = ""
    branch: str = ""
    attempts: int = 0
    problems: tuple[str, ...] = ()


def automations(documents: Sequence[Document]) -> list[Automation]:
    """Every ``kustomize`` component with ``imageRepository`` in ``documents``."""
    found: list[Automation] = []
    for doc in documents:
        if not is_application(doc.data):
            continue
        app = parse_application(doc)
        namespace = app.namespace or "default"
        for component in app.components:
            props = component.properties
            if component.type != "kustomize" or "imageRepository" not in props:
                continue
            where = doc.source.locate(component.path)
            found.append(_automation(namespace, component.name, props, where))
    return found


def _automation(
    namespace: str, name: str, props: Mapping[str, Any], where: SourceLocation
) -> Automation:
    image = props["imageRepository"]
    if not isinstance(image, Mapping) or not image.get("image"):
        raise SailplanError("imageRepository.image is required", location=where)
    if props.get("repoType", "git") != "git":
        raise SailplanError("imageRepository needs repoType git", location=where)
    try:
        policy = policies.policy_from(image.get("policy") or {})
    except ImagePolicyError as exc:
        raise ImagePolicyError(exc.message, location=where) from None
    filter_tags = image.get("filterTags") or {}
    return Automation(
        namespace=namespace,
        name=name,
        url=str(props.get("url", "")),
        ref=Ref.from_properties(props.get("git")),
        path=str(props.get("path", ".")),
        secret_ref=str(props.get("secretRef") or ""),
        image=str(image["image"]),
        image_secret_ref=str(image.get("secretRef") or ""),
        policy=policy,
        pattern=str(filter_tags.get("pattern", "")),
        extract=str(filter_tags.get("extract", "")),
        message=commits.kubevela_message(image.get("commitMessage")),
        location=where,
    )


def latest_tag(automation: Automation, secrets: SecretSource | None) -> str:
    """List the registry's tags and apply the policy (Flux's ImageRepository + ImagePolicy)."""
    credentials = None
    name = registry.parse_image(automation.image)
    if automation.image_secret_ref:
        if secrets is None:
            raise SailplanError(
                f"imageRepository.secretRef {automation.image_secret_ref!r} needs --secrets "
                "or --kubeconfig/--context",
                location=automation.location,
            )
        data = secrets.get(automation.namespace, automation.image_secret_ref)
        config = data.get(".dockerconfigjson")
        if config is None:
            raise SailplanError(
                f"Secret/{automation.namespace}/{automation.image_secret_ref}: "
                "not a kubernetes.io/dockerconfigjson Secret (no .dockerconfigjson key)"
            )
        credentials = registry.credentials_for(config, name.host)
    with registry.RegistryClient(automation.image, credentials) as client:
        tags = client.tags()
    try:
        return policies.choose(tags, automation.policy, automation.pattern, automation.extract)
    except ImagePolicyError as exc:
        raise ImagePolicyError(
            f"{automation.image}: {exc.message}", location=automation.location
        ) from None


def git_auth(automation: Automation, secrets: SecretSource | None) -> GitAuth | None:
    """Credentials for the config repository, from the component's ``secretRef``."""
    if not automation.secret_ref or secrets is None:
        return None
    return GitAuth.from_secret(secrets.get(automation.namespace, automation.secret_ref))


def setters_for(group: Sequence[Automation], tags: Mapping[str, str]) -> dict[str, str]:
    """Every setter of the automations in ``group`` (keyed by marker) with a chosen tag."""
    out: dict[str, str] = {}
    for automation in group:
        if automation.marker in tags:
            out.update(
                setters.image_setters(automation.marker, automation.image, tags[automation.marker])
            )
    return out


def update(
    automation: Automation,
    all_setters: Mapping[str, str],
    tag: str,
    *,
    auth: GitAuth | None,
    dry_run: bool = False,
    push_branch: str = "",
    author: tuple[str, str] = commits.KUBEVELA_AUTHOR,
    signing_key: str = "",
    workdir: Path | None = None,
    before_push: Callable[[], None] | None = None,
) -> Outcome:
    """Clone, rewrite markers under ``path``, and (unless ``dry_run``) commit and push."""
    branch = push_branch or automation.ref.branch
    if not dry_run and not branch:
        raise GitError(
            f"{automation.marker}: the source follows a tag, commit or semver range; "
            "give --push-branch to push image updates",
        )
    with (
        tempfile.TemporaryDirectory(prefix="sailplan-image-update-", dir=workdir) as tmp,
        Git(automation.url, auth) as git,
    ):
        repo = Path(tmp) / "repo"
        git.clone(automation.ref, repo)
        refspec, _ = git.resolve(automation.ref)
        for attempt in range(1, MAX_PUSH_ATTEMPTS + 1):
            if attempt > 1:
                sha = git.fetch(repo, refspec)
                git.run(["reset", "--quiet", "--hard", sha], repo)
            results = _rewrite(repo, automation.path, all_setters)
            problems = tuple(r.problem for r in results.values() if r.problem)
            changed = {p: r for p, r in results.items() if r.changes}
            changes = tuple(c for r in changed.values() for c in r.changes)
            if not changed:
                return Outcome(automation, tag, problems=problems, attempts=attempt)
            diff = _diff(repo, changed)
            if dry_run:
                return Outcome(automation, tag, changes, diff, problems=problems)
            for path, result in changed.items():
                path.write_text(result.text, encoding="utf-8")
            message = commits.render(automation.message, _message_data(automation, repo, changed))
            sha = git.commit(repo, message, author, signing_key=signing_key) or ""
            if before_push is not None:
                before_push()
            if git.push(repo, branch, force=branch != automation.ref.branch):
                return Outcome(automation, tag, changes, diff, sha, branch, attempt, problems)
        raise GitError(
            f"{automation.marker}: the push to {branch} was rejected {MAX_PUSH_ATTEMPTS} times "
            "(the branch keeps moving)"
        )


def _rewrite(
    repo: Path, path: str, all_setters: Mapping[str, str]
) -> dict[Path, setters.FileResult]:
    root = (repo / path).resolve()
    if not root.is_relative_to(repo.resolve()):
        raise GitError(f"path {path!r} leaves the repository")
    if not root.is_dir():
        raise GitError(f"path {path!r} does not exist in the repository")
    return setters.rewrite_tree(root, all_setters, relative_to=repo.resolve())


def _diff(repo: Path, changed: Mapping[Path, setters.FileResult]) -> str:
    out: list[str] = []
    for path, result in sorted(changed.items()):
        name = path.resolve().relative_to(repo.resolve()).as_posix()
        old = path.read_text(encoding="utf-8").splitlines(keepends=True)
        new = result.text.splitlines(keepends=True)
        out.extend(difflib.unified_diff(old, new, f"a/{name}", f"b/{name}"))
    return "".join(out)


def _message_data(
    automation: Automation, repo: Path, changed: Mapping[Path, setters.FileResult]
) -> dict[str, Any]:
    files: dict[str, dict[commits.ObjectIdentifier, list[commits.ChangeData]]] = {}
    images: list[str] = []
    for path, result in changed.items():
        objects = _objects_by_line(path.read_text(encoding="utf-8"))
        per_object = files.setdefault(path.resolve().relative_to(repo.resolve()).as_posix(), {})
        for change in result.changes:
            ident = next(
                (o for first, last, o in objects if first <= change.line <= last),
                commits.ObjectIdentifier("", "", ""),
            )
            per_object.setdefault(ident, []).append(
                commits.ChangeData(change.old, change.new, change.setter)
            )
            if change.setter.count(":") == 1:
                images.append(change.new)
    return commits.template_data(
        commits.NamespacedName(automation.namespace, automation.name), files, images
    )


def _objects_by_line(text: str) -> list[tuple[int, int, commits.ObjectIdentifier]]:
    out = []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for node in yaml.compose_all(text, Loader=loader):
        if not isinstance(node, yaml.MappingNode):
            continue
        data = yaml.load(yaml.serialize(node), Loader=loader)
        meta = data.get("metadata") or {}
        ident = commits.ObjectIdentifier(
            str(data.get("kind", "")),
            str(meta.get("namespace", "")),
            str(meta.get("name", "")),
            str(data.get("apiVersion", "")),
        )
        out.append((node.start_mark.line + 1, node.end_mark.line + 1, ident))
    return out


@dataclasses.dataclass(frozen=True)
class ManifestSecrets:
    """Secrets read from Kubernetes Secret manifests (``--secrets FILE|DIR``)."""

    secrets: Mapping[tuple[str, str], Mapping[str, bytes]]

    def get(self, namespace: str, name: str) -> Mapping[str, bytes]:
        """The Secret's decoded data, or SailplanError naming it."""
        found = self.secrets.get((namespace, name))
        if found is None:
            raise SailplanError(f"Secret/{namespace}/{name}: not found in --secrets")
        return found


@dataclasses.dataclass(frozen=True)
class FirstFound:
    """Secrets from several sources (``--secrets`` files, then the cluster): the first has it."""

    sources: tuple[SecretSource, ...]

    def get(self, namespace: str, name: str) -> Mapping[str, bytes]:
        """The first source's Secret; the last source's error when none has it."""
        for source in self.sources[:-1]:
            try:
                return source.get(namespace, name)
            except SailplanError:
                continue
        return self.sources[-1].get(namespace, name)


def manifest_secrets(documents: Sequence[Document]) -> ManifestSecrets:
    """Index the ``kind: Secret`` documents (``data`` base64, ``stringData`` text)."""
    import base64
    import binascii

    found: dict[tuple[str, str], dict[str, bytes]] = {}
    for doc in documents:
        data = doc.data
        if not isinstance(data, dict) or data.get("kind") != "Secret":
            continue
        meta = data.get("metadata") or {}
        key = (str(meta.get("namespace") or "default"), str(meta.get("name", "")))
        values: dict[str, bytes] = {}
        for k, v in (data.get("data") or {}).items():
            try:
                values[str(k)] = base64.b64decode(str(v), validate=True)
            except binascii.Error:
                raise SailplanError(
                    f"Secret/{key[0]}/{key[1]}: data.{k} is not base64",
                    location=doc.source.locate(()),
                ) from None
        for k, v in (data.get("stringData") or {}).items():
            values[str(k)] = str(v).encode()
        found[key] = values
    return ManifestSecrets(found)
