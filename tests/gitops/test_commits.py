"""Commit message templates: the seeds' ``.Updated`` form and Flux's current ``.Changed``."""

from __future__ import annotations

import pytest

from engine.errors import TemplateError
from engine.gitops import commits
from engine.gitops.commits import ChangeData, NamespacedName, ObjectIdentifier

DEPLOY = ObjectIdentifier("Application", "default", "my-app", "core.oam.dev/v1beta1")
OTHER = ObjectIdentifier("Application", "default", "other", "core.oam.dev/v1beta1")
CHANGE = ChangeData("reg/app:1", "reg/app:2", "default:apps")
TAG = ChangeData("1", "2", "default:apps:tag")
DATA = commits.template_data(
    NamespacedName("default", "apps"),
    {"apps/my-app.yaml": {DEPLOY: [CHANGE]}, "apps/other.yaml": {OTHER: [CHANGE, TAG]}},
    ["reg/app:2", "reg/app:2"],
)


def test_the_seed_template_lists_the_new_images() -> None:
    seed = commits.kubevela_message("Image: {{range .Updated.Images}}{{println .}}{{end}}")
    assert commits.render(seed, DATA) == "Update image automatically.\nImage: reg/app:2\n"


def test_the_translated_and_current_flux_forms() -> None:
    assert commits.render("{{range .Changed.Changes}}{{println .NewValue}}{{end}}", DATA) == (
        "reg/app:2\n2\n"
    )
    flux_doc = (
        "Automation: {{ .AutomationObject }}\n\n"
        "Files:\n"
        "{{ range $filename, $_ := .Changed.FileChanges -}}\n"
        "- {{ $filename }}\n"
        "{{ end -}}\n"
        "Objects:\n"
        "{{ range $resource, $changes := .Changed.Objects -}}\n"
        "- {{ $resource.Kind }} {{ $resource.Name }}\n"
        "  Changes:\n"
        "  {{- range $_, $change := $changes }}\n"
        "    - {{ $change.OldValue }} -> {{ $change.NewValue }}\n"
        "  {{ end -}}\n"
        "{{ end -}}\n"
    )
    assert commits.render(flux_doc, DATA) == (
        "Automation: default/apps\n\n"
        "Files:\n- apps/my-app.yaml\n- apps/other.yaml\n"
        "Objects:\n"
        "- Application my-app\n  Changes:\n    - reg/app:1 -> reg/app:2\n  "
        "- Application other\n  Changes:\n    - reg/app:1 -> reg/app:2\n  \n    - 1 -> 2\n  "
    )


def test_functions_conditions_and_pipes() -> None:
    template = (
        "{{ if .Values.env }}[{{ .Values.env | upper }}] {{ else }}[none] {{ end }}"
        '{{ len .Changed.Changes }} {{ printf "%s/%q" .AutomationObject.Name "x" }}'
        '{{/* a comment */}}{{ with .Updated.Images }} {{ join ", " . }}{{ end }}'
    )
    assert commits.render(template, DATA) == '[none] 2 apps/"x" reg/app:2'
    data = {**DATA, "Values": {"env": "prod"}}
    assert commits.render(template, data).startswith("[PROD] ")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ .Changed.Nope }}", "can't evaluate field Nope in type Changed"),
        ("{{ range .Changed.Changes }}", "missing {{end}}"),
        ("{{ end }}", "unexpected {{end}}"),
        ('{{ exec "rm" }}', 'function "exec" not defined'),
        ("{{ .Changed.Changes.__class__ }}", "can't evaluate field __class__"),
        ('{{ template "x" }}', "not supported"),
        ("{{ $x }}", "undefined variable $x"),
        ("{{ .AutomationObject", "unclosed action"),
    ],
)
def test_errors_name_the_template(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=r"^commitMessage: ") as info:
        commits.render(template, DATA)
    assert message in str(info.value)
