"""A throwaway Kubernetes control plane for sailplan's tests, built from pinned Go modules.

Why this exists: the apply and GitOps layers must be tested against a real API server, but
the team's machines have no Docker (so no kind/k3d), no internet beyond package registries
(so no release tarballs, no setup-envtest) and two cores. So we build etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok from the Go module proxy, pinned by the
tiny tool modules in ``scripts/control-plane/{k8s,etcd,kwok}/``, cache the binaries under
``~/.cache/sailplan/control-plane/<k8s>-<etcd>-<kwok>/`` and run them as plain processes on
127.0.0.1. kwok plays the kubelet of simulated nodes, so Deployments become Available, Jobs
complete and namespaces finish deleting without any container runtime. Nothing is faked:
every API call goes to a real kube-apiserver backed by a real etcd.

One etcd can carry several clusters: each extra cluster is its own kube-apiserver (with its
own ``--etcd-prefix``), kube-controller-manager, kube-scheduler and kwok, so multi-cluster
tests see independent clusters whose Deployments become Available too.

This module is shared by ``scripts/test-cluster`` (command line) and ``tests/cluster.py``
(pytest fixtures). It uses the standard library, the ``openssl`` command for the PKI and,
only to build, the ``go`` command. See /work/shared/reference/test-control-plane.md for
the recipe and its sources.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
TOOL_MODULES = ROOT / "scripts" / "control-plane"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
STAGES = "kwok-stages.yaml"
# The kwok stages of its default "fast" set: node status and heartbeat, pods Ready, Job pods
# Succeeded, deleted pods really deleted (no kubelet confirms deletions otherwise).
STAGE_FILES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
)
MAIN = "main"
STATE = "state.json"
MARKER = ".sailplan-test-cluster"
NODE_NAME = "kwok-node-0"
KWOK_ANNOTATION = "kwok.x-k8s.io/node"
START_TIMEOUT = float(os.environ.get("SAILPLAN_TEST_CLUSTER_TIMEOUT", "120"))
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 40


class ControlPlaneError(RuntimeError):
    """The control plane could not be built, started or used."""


class MissingBinaries(ControlPlaneError):
    """Some binaries are neither given (KUBEBUILDER_ASSETS, TEST_ASSET_*) nor built."""


class ComponentDied(ControlPlaneError):
    """A component exited while the control plane was starting or waiting."""


def _say(message: str) -> None:
    print(f"test-cluster: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Versions and binaries


@dataclass(frozen=True)
class Versions:
    """The pinned versions, read from the tool modules' go.mod files."""

    k8s: str
    etcd: str
    kwok: str

    @property
    def key(self) -> str:
        return f"{self.k8s}-{self.etcd}-{self.kwok}"


def _required_version(module_dir: Path, module: str) -> str:
    text = (module_dir / "go.mod").read_text()
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", text, re.MULTILINE)
    if not match:
        raise ControlPlaneError(f"{module_dir / 'go.mod'} does not require {module}")
    return match.group(1)


def read_versions() -> Versions:
    return Versions(
        k8s=_required_version(TOOL_MODULES / "k8s", "k8s.io/kubernetes"),
        etcd=_required_version(TOOL_MODULES / "etcd", "go.etcd.io/etcd/server/v3"),
        kwok=_required_version(TOOL_MODULES / "kwok", "sigs.k8s.io/kwok"),
    )


def cache_root() -> Path:
    """``$SAILPLAN_CONTROL_PLANE_CACHE``, else ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    if override := os.environ.get("SAILPLAN_CONTROL_PLANE_CACHE"):
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sailplan" / "control-plane"


def built_dir() -> Path:
    """Where ``build()`` puts this checkout's pinned binaries (complete or not)."""
    return cache_root() / read_versions().key


def asset_variable(name: str) -> str:
    """envtest's per-binary override: ``kube-apiserver`` -> ``TEST_ASSET_KUBE_APISERVER``."""
    return "TEST_ASSET_" + re.sub(r"[^A-Z0-9]+", "_", name.upper())


def _usable(path: Path) -> bool:
    return path.is_file() and (path.suffix == ".yaml" or os.access(path, os.X_OK))


def find_binaries() -> dict[str, Path]:
    """Every binary and the kwok stages file, envtest's lookup order first.

    ``TEST_ASSET_<NAME>``, then ``$KUBEBUILDER_ASSETS/<name>``, then the build cache (only a
    build that finished: it has ``.complete``). Raises MissingBinaries naming what is missing.
    """
    cached = built_dir()
    complete = (cached / ".complete").is_file()
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    found: dict[str, Path] = {}
    for name in (*BINARIES, STAGES):
        candidates = []
        if given := os.environ.get(asset_variable(name.removesuffix(".yaml"))):
            candidates.append(Path(given))
        if assets:
            candidates.append(Path(assets) / name)
        if complete:
            candidates.append(cached / name)
        for candidate in candidates:
            if _usable(candidate):
                found[name] = candidate
                break
    missing = [name for name in (*BINARIES, STAGES) if name not in found]
    if missing:
        raise MissingBinaries(
            f"control-plane binaries not found: {', '.join(missing)} (looked at "
            f"TEST_ASSET_*, KUBEBUILDER_ASSETS and {cached}; `scripts/test-cluster build` "
            "builds them with Go)"
        )
    return found


# --------------------------------------------------------------------------------------
# Build


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CGO_ENABLED"] = "0"
    # -mod=readonly: never rewrite the committed go.mod/go.sum while building.
    env["GOFLAGS"] = "-buildvcs=false -mod=readonly"
    return env


def _k8s_ldflags(version: str) -> str:
    """The version stamps hack/lib/version.sh sets; without them /version says v0.0.0."""
    minor = version.split(".")[1]
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion={version}",
            f"-X {package}.gitMajor=1",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
            f"-X {package}.buildDate=1970-01-01T00:00:00Z",
        ]
    return " ".join(flags)


def _go(args: Sequence[str], module: str, *, capture: bool = False) -> str:
    command = ["go", *args]
    _say(f"[{module}] {' '.join(command)}")
    result = subprocess.run(
        command,
        cwd=TOOL_MODULES / module,
        env=_go_env(),
        stdout=subprocess.PIPE if capture else sys.stderr,
        stderr=sys.stderr,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ControlPlaneError(f"`{' '.join(command)}` failed in {TOOL_MODULES / module}")
    return result.stdout or ""


def _write_stages(out: Path) -> None:
    """kwok refuses to start without stages; take them from the kwok module zip."""
    module_dir = Path(
        _go(["list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok"], "kwok", capture=True).strip()
    )
    stage_dir = module_dir / "kustomize" / "stage"
    parts = [(stage_dir / name).read_text().strip() + "\n" for name in STAGE_FILES]
    (out / STAGES).write_text("---\n".join(parts))


def _check_version(binary: Path, expected: str) -> str:
    result = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or expected.lstrip("v") not in output:
        raise ControlPlaneError(f"{binary} --version answered {output!r}, expected {expected}")
    return output.splitlines()[0]


def _compile(out: Path, versions: Versions) -> dict[str, str]:
    build = ["build", "-p", "2", "-trimpath"]
    _go(
        [*build, "-ldflags", _k8s_ldflags(versions.k8s), "-o", f"{out}/"]
        + [f"k8s.io/kubernetes/cmd/{name}" for name in BINARIES[1:4]],
        "k8s",
    )
    _go([*build, "-ldflags", "-s -w", "-o", str(out / "etcd"), "go.etcd.io/etcd/server/v3"], "etcd")
    kwok_flags = f"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version={versions.kwok}"
    _go(
        [*build, "-ldflags", kwok_flags, "-o", str(out / "kwok"), "sigs.k8s.io/kwok/cmd/kwok"],
        "kwok",
    )
    _write_stages(out)
    expected = {"etcd": versions.etcd, "kwok": versions.kwok}
    return {name: _check_version(out / name, expected.get(name, versions.k8s)) for name in BINARIES}


def build() -> Path:
    """Build the pinned binaries into the cache unless a complete build is there; its path.

    ``.complete`` is written only after every binary answered ``--version``; a lock file
    keeps concurrent builds (two checkouts, CI and a fixture) from colliding.
    """
    versions = read_versions()
    target = cache_root() / versions.key
    if (target / ".complete").is_file():
        return target
    if shutil.which("go") is None:
        raise MissingBinaries("Go is not installed, so the control plane cannot be built")
    with _file_lock(target.parent / f"{versions.key}.lock"):
        if (target / ".complete").is_file():
            return target
        partial = target.parent / f"{versions.key}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        started = time.monotonic()
        _say(f"building the control plane {versions.key} into {target} (15-40 min cold)")
        answers = _compile(partial, versions)
        seconds = round(time.monotonic() - started)
        record = {"versions": versions.__dict__, "seconds": seconds, "version_output": answers}
        (partial / ".complete").write_text(json.dumps(record, indent=2) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        _say(f"built in {seconds} s")
    return target


# --------------------------------------------------------------------------------------
# PKI and kubeconfigs


@dataclass(frozen=True)
class Pki:
    """One CA signing the apiserver serving cert and the admin client cert (system:masters)."""

    dir: Path

    @property
    def ca(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def serving_cert(self) -> Path:
        return self.dir / "apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.dir / "apiserver.key"

    @property
    def admin_cert(self) -> Path:
        return self.dir / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.dir / "admin.key"

    @property
    def service_account_key(self) -> Path:
        return self.dir / "sa.key"


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ControlPlaneError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def _signed_cert(directory: Path, name: str, subject: str, extensions: str) -> None:
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl(
        "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=directory
    )
    (directory / f"{name}.ext").write_text(
        extensions + "\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    serial = "0x" + secrets.token_hex(16)
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-set_serial", serial, "-days", "3650", "-out", f"{name}.crt", "-extfile", f"{name}.ext",
        cwd=directory,
    )  # fmt: skip


def make_pki(directory: Path) -> Pki:
    """CA, apiserver serving cert for 127.0.0.1/localhost, admin client cert, SA signing key.

    The CA carries keyUsage and the leaves SKI/AKI, so strict X.509 verification (Python
    3.13's default) accepts them.
    """
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-days", "3650", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=sailplan-test-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash",
        cwd=directory,
    )  # fmt: skip
    leaf = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment"
    names = ",".join(
        ["IP:127.0.0.1", "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default"]
        + ["DNS:kubernetes.default.svc"]
    )
    _signed_cert(
        directory, "apiserver", "/CN=kube-apiserver",
        f"{leaf}\nextendedKeyUsage=serverAuth\nsubjectAltName={names}",
    )  # fmt: skip
    _signed_cert(
        directory, "admin", "/O=system:masters/CN=admin", f"{leaf}\nextendedKeyUsage=clientAuth"
    )
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=directory)
    for path in directory.iterdir():
        path.chmod(0o600)
    return Pki(directory)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@dataclass(frozen=True)
class ClusterInfo:
    """What a client needs to reach one cluster of the control plane."""

    name: str
    context: str
    server: str
    kubeconfig: Path


def kubeconfig_text(clusters: Sequence[ClusterInfo], pki: Pki) -> str:
    """A self-contained kubeconfig (data embedded) with one context per cluster."""
    user = "sailplan-admin"
    lines = ["apiVersion: v1", "kind: Config", "clusters:"]
    for info in clusters:
        lines += [
            f"- name: {info.context}",
            "  cluster:",
            f"    server: {info.server}",
            f"    certificate-authority-data: {_b64(pki.ca)}",
        ]
    lines += [
        "users:",
        f"- name: {user}",
        "  user:",
        f"    client-certificate-data: {_b64(pki.admin_cert)}",
        f"    client-key-data: {_b64(pki.admin_key)}",
        "contexts:",
    ]
    for info in clusters:
        lines += [
            f"- name: {info.context}",
            "  context:",
            f"    cluster: {info.context}",
            f"    user: {user}",
            "    namespace: default",
        ]
    lines.append(f"current-context: {clusters[0].context}")
    return "\n".join(lines) + "\n"


def write_kubeconfig(path: Path, clusters: Sequence[ClusterInfo], pki: Pki) -> Path:
    path.write_text(kubeconfig_text(clusters, pki))
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------------------
# HTTP on loopback


def _ssl_context(pki: Pki | None) -> ssl.SSLContext:
    if pki is None:  # kube-controller-manager and kube-scheduler serve self-signed certs
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context(cafile=str(pki.ca))
    context.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))
    return context


def _opener(pki: Pki | None) -> urllib.request.OpenerDirector:
    # ProxyHandler({}): never send loopback traffic through a configured proxy.
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=_ssl_context(pki))
    )


class ApiError(ControlPlaneError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


@dataclass
class Api:
    """The few raw API calls the control plane needs for itself (no client library)."""

    server: str
    pki: Pki
    _opener: urllib.request.OpenerDirector | None = None

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        if self._opener is None:
            self._opener = _opener(self.pki)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        try:
            with self._opener.open(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, error.read().decode(errors="replace")[:500]) from None

    def create(self, path: str, body: Mapping[str, Any]) -> None:
        """POST, treating AlreadyExists as success (start-up steps are idempotent)."""
        try:
            self.request("POST", path, body)
        except ApiError as error:
            if error.status != 409:
                raise

    def get(self, path: str) -> Any:
        try:
            return self.request("GET", path)
        except ApiError as error:
            if error.status == 404:
                return None
            raise


# --------------------------------------------------------------------------------------
# Processes


@dataclass
class Component:
    """One running process of the control plane."""

    name: str
    pid: int
    argv0: str
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return False
        # The pid is ours only while it still runs our binary (pids get reused).
        return cmdline.split(b"\0", 1)[0].decode(errors="replace") == self.argv0

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def died(self) -> ComponentDied:
        code = self.process.poll() if self.process else None
        return ComponentDied(
            f"{self.name} exited (code {code}); the last lines of {self.log}:\n{self.log_tail()}"
        )

    def signal(self, signum: int) -> None:
        if not self.running():
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)  # each component leads its own process group

    def wait_gone(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.running():
                return True
            time.sleep(0.1)
        return False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "pid": self.pid, "argv0": self.argv0, "log": str(self.log)}


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the test process dies (Linux only)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 now (all held open together, so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.update(HOME=str(home), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.pop("KUBECONFIG", None)
    return env


def _http_ok(url: str, pki: Pki | None) -> bool:
    try:
        with _opener(pki).open(url, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, ssl.SSLError):
        return False


# --------------------------------------------------------------------------------------
# The control plane


@dataclass
class ControlPlane:
    """etcd plus one or more clusters (apiserver, KCM, scheduler, kwok), all on loopback.

    ``start()`` brings up etcd and the ``main`` cluster; ``add_cluster(name)`` adds another
    cluster on the same etcd under ``--etcd-prefix=/<name>/registry``. The state is saved to
    ``<dir>/state.json`` so that another process (``scripts/test-cluster down``) can stop it.
    """

    dir: Path
    binaries: dict[str, Path]
    pki: Pki
    etcd_url: str = ""
    tie_to_parent: bool = False
    components: list[Component] = field(default_factory=list)
    clusters: dict[str, ClusterInfo] = field(default_factory=dict)

    # ---- lifecycle

    @classmethod
    def start(
        cls, directory: Path, binaries: dict[str, Path], *, tie_to_parent: bool = False
    ) -> ControlPlane:
        """Start etcd and the main cluster in an empty or new ``directory``."""
        directory = directory.resolve()
        if directory.exists() and any(directory.iterdir()):
            raise ControlPlaneError(f"{directory} is not empty (is a cluster up there already?)")
        (directory / "logs").mkdir(parents=True)
        (directory / MARKER).write_text("made by scripts/testcluster.py; removed by `down`\n")
        plane = cls(directory, binaries, make_pki(directory / "pki"), tie_to_parent=tie_to_parent)
        try:
            plane._start_etcd()
            plane.add_cluster(MAIN)
        except BaseException:
            plane.stop(remove=False)
            raise
        return plane

    @classmethod
    def load(cls, directory: Path) -> ControlPlane:
        """The control plane a ``start()`` in another process left in ``directory``."""
        directory = directory.resolve()
        state = json.loads((directory / STATE).read_text())
        plane = cls(
            directory,
            {name: Path(path) for name, path in state["binaries"].items()},
            Pki(directory / "pki"),
            etcd_url=state["etcd_url"],
        )
        plane.components = [
            Component(c["name"], c["pid"], c["argv0"], Path(c["log"])) for c in state["components"]
        ]
        plane.clusters = {
            name: ClusterInfo(name, c["context"], c["server"], Path(c["kubeconfig"]))
            for name, c in state["clusters"].items()
        }
        return plane

    def stop(self, *, remove: bool = True) -> None:
        """SIGTERM in reverse start order, SIGKILL what is left after 10 s, remove the dir."""
        for component in reversed(self.components):
            component.signal(signal.SIGTERM)
            if not component.wait_gone(STOP_TIMEOUT):
                component.signal(signal.SIGKILL)
                component.wait_gone(STOP_TIMEOUT)
        self.components = []
        if remove and (self.dir / MARKER).exists():
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            self._save()

    def check_alive(self) -> None:
        """Raise ComponentDied (with its log's tail) if any component has exited."""
        for component in self.components:
            if not component.running():
                raise component.died()

    # ---- clusters

    def add_cluster(self, name: str) -> ClusterInfo:
        """Start a cluster (apiserver, KCM, scheduler, kwok) on the shared etcd; wait for it."""
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", name) or name in self.clusters:
            raise ControlPlaneError(f"bad or duplicate cluster name {name!r}")
        work = self.dir / name
        work.mkdir()
        api_port, kcm_port, scheduler_port, kwok_port = free_ports(4)
        server = f"https://127.0.0.1:{api_port}"
        context = "sailplan-test" if name == MAIN else f"sailplan-test-{name}"
        kubeconfig = self.dir / ("kubeconfig" if name == MAIN else f"{name}.kubeconfig")
        info = ClusterInfo(name, context, server, kubeconfig)
        write_kubeconfig(kubeconfig, [info], self.pki)
        self.clusters[name] = info
        self._save()
        apiserver = self._spawn(
            f"{name}-kube-apiserver", self._apiserver_args(name, api_port), work
        )
        self._wait(apiserver, f"{server}/readyz", self.pki)
        components_kubeconfig = self._components_kubeconfig(work, server)
        waits = [
            (
                self._spawn(
                    f"{name}-kube-controller-manager",
                    self._kcm_args(components_kubeconfig, kcm_port),
                    work,
                ),
                f"https://127.0.0.1:{kcm_port}/healthz",
            ),
            (
                self._spawn(
                    f"{name}-kube-scheduler",
                    self._scheduler_args(work, components_kubeconfig, scheduler_port),
                    work,
                ),
                f"https://127.0.0.1:{scheduler_port}/readyz",
            ),
            (
                self._spawn(
                    f"{name}-kwok", self._kwok_args(components_kubeconfig, kwok_port), work
                ),
                f"http://127.0.0.1:{kwok_port}/healthz",
            ),
        ]
        for component, url in waits:
            self._wait(component, url, None)
        self._smoke(Api(server, self.pki), name)
        self._write_combined()
        return info

    def api(self, name: str = MAIN) -> Api:
        return Api(self.clusters[name].server, self.pki)

    @property
    def combined_kubeconfig(self) -> Path:
        """``all.kubeconfig``: one context per cluster, the main one current."""
        return self.dir / "all.kubeconfig"

    # ---- internals

    def _save(self) -> None:
        state = {
            "binaries": {name: str(path) for name, path in self.binaries.items()},
            "etcd_url": self.etcd_url,
            "components": [c.to_json() for c in self.components],
            "clusters": {
                name: {"context": c.context, "server": c.server, "kubeconfig": str(c.kubeconfig)}
                for name, c in self.clusters.items()
            },
        }
        if self.dir.exists():
            (self.dir / STATE).write_text(json.dumps(state, indent=2) + "\n")

    def _write_combined(self) -> None:
        write_kubeconfig(self.combined_kubeconfig, list(self.clusters.values()), self.pki)

    def _spawn(self, name: str, args: Sequence[str], home: Path) -> Component:
        log = self.dir / "logs" / f"{name}.log"
        binary = args[0]
        with log.open("ab") as out:
            process = subprocess.Popen(
                list(args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=home,
                env=_child_env(home),
                start_new_session=True,
                preexec_fn=_die_with_parent
                if self.tie_to_parent and sys.platform == "linux"
                else None,
            )
        component = Component(name, process.pid, binary, log, process)
        self.components.append(component)
        (self.dir / f"{name}.pid").write_text(f"{process.pid}\n")
        self._save()
        return component

    def _wait(self, component: Component, url: str, pki: Pki | None) -> None:
        self.wait_until(lambda: _http_ok(url, pki), f"{component.name} to answer {url}")

    def wait_until(
        self, predicate: Callable[[], bool], what: str, timeout: float = START_TIMEOUT
    ) -> None:
        """Poll ``predicate``; fail fast with a log tail when a component dies meanwhile."""
        end = time.monotonic() + timeout
        while True:
            self.check_alive()
            if predicate():
                return
            if time.monotonic() > end:
                raise ControlPlaneError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.2)

    def _start_etcd(self) -> None:
        client, peer = free_ports(2)
        self.etcd_url = f"http://127.0.0.1:{client}"
        peer_url = f"http://127.0.0.1:{peer}"
        args = [
            str(self.binaries["etcd"]),
            "--name=n0",
            f"--data-dir={self.dir / 'etcd'}",
            f"--listen-client-urls={self.etcd_url}",
            f"--advertise-client-urls={self.etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=n0={peer_url}",
            "--unsafe-no-fsync=true",
            "--quota-backend-bytes=2147483648",
            "--log-level=warn",
        ]
        etcd = self._spawn("etcd", args, self.dir)
        self.wait_until(
            lambda: _etcd_healthy(self.etcd_url), f"etcd to answer {self.etcd_url}/health", 30
        )
        del etcd

    def _apiserver_args(self, name: str, port: int) -> list[str]:
        pki = self.pki
        args = [
            str(self.binaries["kube-apiserver"]),
            f"--etcd-servers={self.etcd_url}",
            f"--etcd-prefix={'/registry' if name == MAIN else f'/{name}/registry'}",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={self.dir / name / 'certs'}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca}",
            "--authorization-mode=RBAC",
            f"--service-account-issuer=https://{name}.kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki.service_account_key}",
            f"--service-account-signing-key-file={pki.service_account_key}",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--allow-privileged=true",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            "--v=1",
        ]
        if name != MAIN:  # etcd compaction is global: let the main apiserver alone do it
            args.append("--etcd-compaction-interval=0")
        # Never 127.0.0.1 (rejected); by default the apiserver advertises the default-route
        # interface's address, which nothing here ever dials. For machines without a route:
        if advertise := os.environ.get("SAILPLAN_TEST_ADVERTISE_ADDRESS"):
            args.append(f"--advertise-address={advertise}")
        return args

    def _components_kubeconfig(self, work: Path, server: str) -> Path:
        info = ClusterInfo("components", "components", server, work / "components.kubeconfig")
        return write_kubeconfig(info.kubeconfig, [info], self.pki)

    def _kcm_args(self, kubeconfig: Path, port: int) -> list[str]:
        return [
            str(self.binaries["kube-controller-manager"]),
            f"--kubeconfig={kubeconfig}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            "--controllers=*",
            f"--service-account-private-key-file={self.pki.service_account_key}",
            f"--root-ca-file={self.pki.ca}",
            "--node-monitor-period=5s",
            "--node-monitor-grace-period=40s",
            "--profiling=false",
            "--v=1",
        ]

    def _scheduler_args(self, work: Path, kubeconfig: Path, port: int) -> list[str]:
        config = work / "scheduler.yaml"
        config.write_text(
            "apiVersion: kubescheduler.config.k8s.io/v1\n"
            "kind: KubeSchedulerConfiguration\n"
            f"clientConnection:\n  kubeconfig: {kubeconfig}\n"
            "leaderElection:\n  leaderElect: false\n"
        )
        return [
            str(self.binaries["kube-scheduler"]),
            f"--config={config}",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            "--profiling=false",
            "--v=1",
        ]

    def _kwok_args(self, kubeconfig: Path, port: int) -> list[str]:
        return [
            str(self.binaries["kwok"]),
            f"--kubeconfig={kubeconfig}",
            f"--config={self.binaries[STAGES]}",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={KWOK_ANNOTATION}=fake",
            "--node-lease-duration-seconds=40",
            "--cidr=10.244.0.0/16",
            "--node-name=localhost",
            f"--server-address=127.0.0.1:{port}",
        ]

    def _smoke(self, api: Api, cluster: str) -> None:
        """A kwok Node, then a Deployment that must become Available; then remove it."""
        api.create("/api/v1/nodes", fake_node(NODE_NAME))
        self.wait_until(lambda: node_ready(api, NODE_NAME), f"[{cluster}] node {NODE_NAME} Ready")
        self.wait_until(
            lambda: api.get("/api/v1/namespaces/default/serviceaccounts/default") is not None,
            f"[{cluster}] the default ServiceAccount",
        )
        base = "/apis/apps/v1/namespaces/default/deployments"
        api.create(base, smoke_deployment("smoke", replicas=2))
        self.wait_until(
            lambda: deployment_available(api.get(f"{base}/smoke")),
            f"[{cluster}] the smoke Deployment to become Available",
        )
        api.request("DELETE", f"{base}/smoke", {"propagationPolicy": "Foreground"})
        self.wait_until(
            lambda: api.get(f"{base}/smoke") is None,
            f"[{cluster}] the smoke Deployment to be deleted",
        )


def _etcd_healthy(url: str) -> bool:
    try:
        with _opener(None).open(f"{url}/health", timeout=2) as response:
            return bool(json.loads(response.read()).get("health") == "true")
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------------------
# Objects and predicates


def fake_node(name: str) -> dict[str, Any]:
    """A Node kwok manages (by annotation); untainted, so test pods need no tolerations."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
    }


def smoke_deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10"}]},
            },
        },
    }


def _condition(obj: Mapping[str, Any], kind: str) -> str | None:
    for condition in obj.get("status", {}).get("conditions") or []:
        if condition.get("type") == kind:
            return str(condition.get("status"))
    return None


def node_ready(api: Api, name: str) -> bool:
    node = api.get(f"/api/v1/nodes/{name}")
    return node is not None and _condition(node, "Ready") == "True"


def deployment_available(deployment: Mapping[str, Any] | None) -> bool:
    """observedGeneration caught up, Available=True, updated == available == spec replicas."""
    if deployment is None:
        return False
    status = deployment.get("status", {})
    replicas = deployment.get("spec", {}).get("replicas", 1)
    return (
        status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 1)
        and _condition(deployment, "Available") == "True"
        and status.get("updatedReplicas", 0) == replicas
        and status.get("availableReplicas", 0) == replicas
    )


# --------------------------------------------------------------------------------------
# Command line (scripts/test-cluster)

USAGE = """usage: scripts/test-cluster build | up DIR [--second] | add DIR NAME | down DIR

  build          build the pinned binaries (or find them cached); print their folder
  up DIR         start etcd and a cluster on 127.0.0.1; print DIR/kubeconfig
                 --second: also a second cluster on the same etcd (DIR/second.kubeconfig);
                 DIR/all.kubeconfig then has both contexts
  add DIR NAME   add a cluster to a running control plane (DIR/NAME.kubeconfig)
  down DIR       stop every process (SIGTERM, then SIGKILL) and remove DIR
"""


def _binaries_or_build() -> dict[str, Path]:
    try:
        return find_binaries()
    except MissingBinaries:
        build()
        return find_binaries()


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args == ["build"]:
            print(build(), file=out)
        elif len(args) in (2, 3) and args[0] == "up" and args[2:] in ([], ["--second"]):
            started = time.monotonic()
            plane = ControlPlane.start(Path(args[1]), _binaries_or_build())
            if "--second" in args:
                plane.add_cluster("second")
            _say(f"up in {time.monotonic() - started:.1f} s; logs in {plane.dir / 'logs'}")
            print(plane.clusters[MAIN].kubeconfig, file=out)
        elif len(args) == 3 and args[0] == "add":
            print(ControlPlane.load(Path(args[1])).add_cluster(args[2]).kubeconfig, file=out)
        elif len(args) == 2 and args[0] == "down":
            directory = Path(args[1])
            if not (directory / MARKER).exists():
                raise ControlPlaneError(f"{directory} holds no test cluster")
            ControlPlane.load(directory).stop()
        else:
            print(USAGE, file=sys.stderr, end="")
            return 2
    except ControlPlaneError as error:
        _say(f"error: {error}")
        return 1
    return 0
