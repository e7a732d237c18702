"""sailplan's engine: KubeVela Applications in, Kubernetes manifests out.

The public API is re-exported here lazily, so that ``import engine`` (and
``sailplan --version``) stays fast; the layers below import one way only:
errors <- model <- definitions <- render <- patch <- build.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Build": "engine.build",
    "build": "engine.build",
    "build_documents": "engine.build",
    "Registry": "engine.definitions",
    "SailplanError": "engine.errors",
    "load_documents": "engine.model",
    "parse_application": "engine.model",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
