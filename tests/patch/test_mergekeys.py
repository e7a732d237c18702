"""The generated merge-key table: up to date, small, and free of dev-only imports."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from engine.patch import _mergekeys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_merge_keys.py"


def test_generated_table_is_up_to_date() -> None:
    args = [sys.executable, str(SCRIPT), "--check", "--kube-version", _mergekeys.KUBERNETES_VERSION]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_runtime_does_not_import_kubernetes_validate() -> None:
    code = (
        "import sys, engine.patch.strategic, engine.patch.jsonpatch, engine.patch.mergepatch;"
        "sys.exit('kubernetes_validate' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 0


def test_table_says_what_kubernetes_says() -> None:
    pod = _mergekeys.FIELDS["core.v1.PodSpec"]
    container = _mergekeys.FIELDS["core.v1.Container"]
    assert pod["containers"] == ("core.v1.Container", True, ("name",), "merge")
    assert pod["initContainers"][2:] == (("name",), "merge")
    assert pod["volumes"][2:] == (("name",), "merge")
    assert pod["imagePullSecrets"][2:] == (("name",), "merge")
    assert pod["topologySpreadConstraints"][2] == ("topologyKey", "whenUnsatisfiable")
    assert "tolerations" not in pod  # atomic: replaced whole
    assert container["env"][2:] == (("name",), "merge")
    assert container["volumeMounts"][2:] == (("mountPath",), "merge")
    assert container["ports"][2] == ("containerPort", "protocol")
    assert "args" not in container
    assert _mergekeys.FIELDS["core.v1.ServiceSpec"]["ports"][2] == ("port", "protocol")
    assert _mergekeys.FIELDS["meta.v1.ObjectMeta"]["finalizers"] == (None, True, (), "merge")
    assert _mergekeys.FIELDS["policy.v1.PodDisruptionBudgetSpec"]["selector"][3] == "replace"
    assert _mergekeys.KEY_DEFAULTS["core.v1.ContainerPort"] == {"protocol": "TCP"}
    assert _mergekeys.ROOTS[("apps/v1", "Deployment")] == "apps.v1.Deployment"
    assert _mergekeys.ROOTS[("batch/v1", "CronJob")] == "batch.v1.CronJob"


def test_every_reference_resolves() -> None:
    for fields in _mergekeys.FIELDS.values():
        for target, _is_list, keys, strategy in fields.values():
            if target is not None and not keys:
                assert target in _mergekeys.FIELDS, target
            assert strategy in ("", "merge", "replace")
    assert set(_mergekeys.ROOTS.values()) <= set(_mergekeys.FIELDS)


def test_table_stays_small() -> None:
    assert pathlib.Path(_mergekeys.__file__).stat().st_size < 64_000
