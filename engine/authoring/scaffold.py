"""``def init``: the files of a new definition that works as soon as it is written.

Why: the fastest way to learn the definition format is a small, complete, correct one to
edit. Each scaffold has metadata, a closed schema with one required and one defaulted
property, a template that uses both, and an example, and passes ``def validate`` as is.
The files are returned as text; writing them is the command line's job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from engine.definitions.definition import METADATA_FILE, SCHEMA_FILE, TEMPLATE_FILE
from engine.errors import DefinitionError

KINDS = ("component", "trait")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
EXAMPLE_FILE = "examples/basic.yaml"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a definition (it must be a DNS label), or None."""
    if not _DNS_LABEL.match(name) or len(name) > 63:
        return (
            f"{name!r} is not a valid definition name: use at most 63 lower-case letters, "
            "digits and '-', starting and ending with a letter or digit"
        )
    return None


def scaffold(name: str, kind: str) -> dict[str, str]:
    """The files of a new ``kind`` definition called ``name``, by path within its folder."""
    problem = name_problem(name)
    if problem:
        raise DefinitionError(problem)
    if kind == "component":
        return _files(
            _component_meta(name), _COMPONENT_SCHEMA, _COMPONENT_TEMPLATE, _COMPONENT_EXAMPLE
        )
    if kind == "trait":
        template = _TRAIT_TEMPLATE.replace("NAME", name)
        return _files(_trait_meta(name), _TRAIT_SCHEMA, template, _TRAIT_EXAMPLE)
    raise DefinitionError(f"unknown definition kind {kind!r}; expected one of {', '.join(KINDS)}")


def _files(meta: str, schema: Mapping[str, Any], template: str, example: str) -> dict[str, str]:
    return {
        METADATA_FILE: meta,
        SCHEMA_FILE: json.dumps(schema, indent=2) + "\n",
        TEMPLATE_FILE: template,
        EXAMPLE_FILE: example,
    }


def _component_meta(name: str) -> str:
    return f"""\
apiVersion: sailplan.dev/v1alpha1
kind: ComponentDefinition
name: {name}
description: Runs one container image as a Deployment.
workload:
  type: deployments.apps
  definition:
    apiVersion: apps/v1
    kind: Deployment
"""


def _trait_meta(name: str) -> str:
    return f"""\
apiVersion: sailplan.dev/v1alpha1
kind: TraitDefinition
name: {name}
description: Labels the workload and its pods with their owner; writes the contact to a ConfigMap.
appliesTo: ["*"]
podDisruptive: true
"""


_SCHEMA = "https://json-schema.org/draft/2020-12/schema"

_COMPONENT_SCHEMA = {
    "$schema": _SCHEMA,
    "type": "object",
    "additionalProperties": False,
    "required": ["image"],
    "properties": {
        "image": {"type": "string", "description": "The container image to run"},
        "replicas": {
            "type": "integer",
            "minimum": 0,
            "default": 1,
            "description": "How many pods to run",
        },
    },
}

_COMPONENT_TEMPLATE = """\
{#- A Deployment running parameter.image. sailplan adds the name, namespace and the
    app.oam.dev labels; every {{ value }} is written as one JSON value, so it cannot
    break the YAML. -#}
output:
  apiVersion: apps/v1
  kind: Deployment
  spec:
    replicas: {{ parameter.replicas }}
    selector:
      matchLabels:
        app.oam.dev/component: {{ context.name }}
    template:
      metadata:
        labels:
          app.oam.dev/component: {{ context.name }}
      spec:
        containers:
          - name: {{ context.name }}
            image: {{ parameter.image }}
"""

_COMPONENT_EXAMPLE = """\
description: Two replicas of nginx.
properties:
  image: nginx:1.27
  replicas: 2
"""

_TRAIT_SCHEMA = {
    "$schema": _SCHEMA,
    "type": "object",
    "additionalProperties": False,
    "required": ["owner"],
    "properties": {
        "owner": {
            "type": "string",
            "maxLength": 63,
            "pattern": "^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$",
            "description": "Who owns the workload; set as its 'owner' label (a label value)",
        },
        "contact": {
            "type": "string",
            "default": "nobody@example.com",
            "description": "How to reach the owner; written into the ConfigMap",
        },
    },
}

_TRAIT_TEMPLATE = """\
{#- A strategic-merge patch labels the workload (and its pod template, if it has one);
    outputs adds a ConfigMap next to it. context.output is the workload so far. -#}
patch:
  metadata:
    labels:
      owner: {{ parameter.owner }}
{% if context.output.spec is defined and context.output.spec.template is defined %}
  spec:
    template:
      metadata:
        labels:
          owner: {{ parameter.owner }}
{% endif %}
outputs:
  NAME:
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: {{ context.name ~ "-NAME" }}
    data:
      owner: {{ parameter.owner }}
      contact: {{ parameter.contact }}
"""

_TRAIT_EXAMPLE = """\
description: Label a webservice and its pods with their owner.
component:
  type: webservice
  properties:
    image: nginx:1.27
properties:
  owner: team-a
"""
