"""The error tree: cluster errors name the object first, keep the cause and the source."""

from __future__ import annotations

from engine.errors import ClusterError, GitError, RegistryError, SailplanError, SourceLocation


def test_cluster_error_names_object_reason_and_source() -> None:
    cause = RuntimeError("422 Unprocessable Entity")
    error = ClusterError.of(
        {"kind": "Deployment", "metadata": {"namespace": "default", "name": "web"}},
        "the server rejected it: spec.replicas: Invalid value: -1",
        location=SourceLocation("apps/my-app.yaml", 12),
        cause=cause,
    )
    assert str(error) == (
        "Deployment/default/web: the server rejected it: spec.replicas: Invalid value: -1 "
        "(apps/my-app.yaml:12)"
    )
    assert error.cause is cause and error.__cause__ is cause
    assert isinstance(error, SailplanError)


def test_cluster_scoped_objects_have_no_namespace_part() -> None:
    error = ClusterError.of(
        {"kind": "Namespace", "metadata": {"name": "prod"}}, "forbidden: cannot delete"
    )
    assert str(error) == "Namespace/prod: forbidden: cannot delete"
    assert error.subject == "Namespace/prod"


def test_git_and_registry_errors_join_the_tree() -> None:
    assert issubclass(GitError, SailplanError)
    assert issubclass(RegistryError, SailplanError)
    assert str(GitError("unknown revision 'x'")) == "unknown revision 'x'"
