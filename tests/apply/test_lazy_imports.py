"""The cluster client library is imported only when a cluster is used."""

from __future__ import annotations

import subprocess
import sys


def test_version_does_not_import_kubernetes() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['sailplan', '--version']\n"
        "import cli\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kubernetes'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_render_does_not_import_kubernetes_or_rich() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['sailplan', 'render', 'examples/gitops-demo/apps/my-app.yaml']\n"
        "import cli\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'kubernetes', 'rich', 'urllib3'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
