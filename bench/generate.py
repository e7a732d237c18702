"""Generate an Application of N webservice components, each with three traits.

Usage: python bench/generate.py N > app.yaml
"""

from __future__ import annotations

import sys

import yaml


def application(count: int) -> dict[str, object]:
    """An Application with ``count`` components (scaler, gateway and labels traits)."""
    components = [
        {
            "name": f"svc-{i:04d}",
            "type": "webservice",
            "properties": {
                "image": f"registry.example.com/team/svc-{i:04d}:1.{i}.0",
                "ports": [{"port": 8080, "expose": True}],
                "env": [
                    {"name": "INDEX", "value": str(i)},
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}},
                    },
                ],
                "cpu": "250m",
                "memory": "256Mi",
            },
            "traits": [
                {"type": "scaler", "properties": {"replicas": 1 + i % 3}},
                {
                    "type": "gateway",
                    "properties": {
                        "domain": f"svc-{i:04d}.example.com",
                        "http": {"/": 8080},
                        "classInSpec": True,
                        "name": "public",
                    },
                },
                {"type": "labels", "properties": {"team": f"team-{i % 7}", "tier": "web"}},
            ],
        }
        for i in range(count)
    ]
    return {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": "bench", "namespace": "bench"},
        "spec": {"components": components},
    }


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    yaml.safe_dump(application(count), sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
