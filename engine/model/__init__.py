"""Values the engine works on: Applications, manifests, and their sources.

Loading and serialising sit here too, as pure functions over text: the model layer
never opens files.
"""

from engine.model.application import (
    Application,
    Component,
    Policy,
    Step,
    StepInput,
    StepOutput,
    Trait,
    WorkflowMode,
    base_type,
    is_application,
    parse_application,
)
from engine.model.documents import (
    Document,
    Source,
    SourceText,
    load_documents,
    load_yaml,
)
from engine.model.dump import dump_json, dump_yaml, to_yaml
from engine.model.manifests import Manifest, ResourceId
from engine.model.paths import YamlPath, format_path

__all__ = [
    "Application",
    "Component",
    "Document",
    "Manifest",
    "Policy",
    "ResourceId",
    "Source",
    "SourceText",
    "Step",
    "StepInput",
    "StepOutput",
    "Trait",
    "WorkflowMode",
    "YamlPath",
    "base_type",
    "dump_json",
    "dump_yaml",
    "format_path",
    "is_application",
    "load_documents",
    "load_yaml",
    "parse_application",
    "to_yaml",
]
