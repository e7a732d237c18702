"""The drift test, the no-dry-run shortcut, normalisation and Secret masking."""

from __future__ import annotations

import pytest

from engine.apply import changes as ch
from engine.apply.durations import format_duration, parse_duration
from engine.errors import SailplanError


def test_normalised_secret_folds_string_data_and_ports_get_tcp() -> None:
    secret = ch.normalized({"apiVersion": "v1", "kind": "Secret", "stringData": {"k": "v"}})
    assert secret == {"apiVersion": "v1", "kind": "Secret", "data": {"k": "dg=="}}
    svc = ch.normalized({"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}})
    assert svc["spec"]["ports"] == [{"port": 80, "protocol": "TCP"}]


def test_drift_is_labels_annotations_or_body() -> None:
    live = {
        "kind": "ConfigMap",
        "metadata": {"resourceVersion": "1", "labels": {"a": "1"}},
        "data": {"x": "1"},
    }
    same = {
        "kind": "ConfigMap",
        "metadata": {"resourceVersion": "2", "labels": {"a": "1"}},
        "data": {"x": "1"},
    }
    assert not ch.drifted(live, same)
    assert ch.drifted(live, {**same, "data": {"x": "2"}})
    assert ch.drifted(live, {**same, "metadata": {"labels": {"a": "2"}}})


def test_covers_ignores_server_defaults_but_not_changed_values() -> None:
    desired = {
        "spec": {"replicas": 1, "ports": [{"port": 80}], "empty": {}},
        "metadata": {"annotations": {}},
    }
    live = {
        "spec": {"replicas": 1, "ports": [{"port": 80, "protocol": "TCP"}], "extra": 1},
        "metadata": {},
    }
    assert ch.covers(live, desired)
    assert not ch.covers({"spec": {"replicas": 2, "ports": [{"port": 80}]}}, desired)
    assert not ch.covers({"spec": {"replicas": 1, "ports": []}}, desired)
    assert not ch.covers({"spec": {"replicas": "1", "ports": [{"port": 80}]}}, desired)


def test_masked_hides_every_secret_value() -> None:
    secret = {"kind": "Secret", "data": {"password": "c2VjcmV0"}, "stringData": {"token": "t0k"}}
    out = ch.masked(secret)
    assert "c2VjcmV0" not in str(out) and "t0k" not in str(out)
    assert ch.masked({"kind": "ConfigMap", "data": {"a": "b"}}) == {
        "kind": "ConfigMap",
        "data": {"a": "b"},
    }


def test_comparable_drops_what_the_server_keeps() -> None:
    live = {
        "kind": "ConfigMap",
        "metadata": {
            "name": "c",
            "uid": "u",
            "resourceVersion": "9",
            "managedFields": [],
            "generation": 1,
        },
        "status": {},
    }
    assert ch.comparable(live) == {"kind": "ConfigMap", "metadata": {"name": "c"}}


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("5m", 300), ("1h30m", 5400), ("500ms", 0.5), ("42", 42)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "m5", "1x"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(SailplanError, match="write it like 90s, 5m or 1h30m"):
        parse_duration(text)


def test_format_duration() -> None:
    assert format_duration(2.34) == "2.3s"
    assert format_duration(90) == "1m30s"
