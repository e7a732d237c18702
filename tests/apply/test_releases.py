"""Release records: encoded as Helm encodes releases, decoded back the same."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from engine.apply import releases
from engine.apply.errors import ClusterError
from engine.apply.releases import Entry, Release


def sample() -> Release:
    return Release(
        app="my-app",
        namespace="default",
        env="prod",
        revision=3,
        time="2026-12-02T04:00:00Z",
        digest=releases.digest([{"kind": "ConfigMap"}]),
        status=releases.DEPLOYED,
        manifests=({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},),
        entries=(
            Entry("v1", "ConfigMap", "default", "c", component="web", policy={"read_only": True}),
        ),
        changes={"ConfigMap/default/c": "created"},
        workflow={"steps": [{"name": "deploy", "phase": "succeeded"}]},
        depends_on={"web": ("db",)},
    )


def test_a_release_is_a_secret_of_our_type_named_like_helms() -> None:
    secret = releases.encode(sample())
    assert secret["type"] == "sailplan.dev/release.v1"
    assert secret["metadata"]["name"] == "sailplan.my-app.prod.v3"
    assert secret["metadata"]["labels"] == {
        "owner": "sailplan",
        "name": "my-app",
        "env": "prod",
        "version": "3",
        "status": "deployed",
    }
    record = json.loads(
        gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"])))
    )
    assert record["revision"] == 3 and record["objects"][0]["kind"] == "ConfigMap"


def test_decode_gives_back_the_release() -> None:
    assert releases.decode(releases.encode(sample())) == sample()


def test_a_damaged_record_names_the_secret() -> None:
    secret = releases.encode(sample())
    secret["data"]["release"] = "bm90IGd6aXA="
    with pytest.raises(
        ClusterError, match=r"^Secret/default/sailplan.my-app.prod.v3: release record is damaged"
    ):
        releases.decode(secret)


def test_digest_is_stable_and_order_sensitive() -> None:
    a, b = {"kind": "A"}, {"kind": "B"}
    assert releases.digest([a, b]) == releases.digest([dict(a), dict(b)])
    assert releases.digest([a, b]) != releases.digest([b, a])


def test_unnamed_environment_is_default() -> None:
    assert releases.secret_name("app", "", 1) == "sailplan.app.default.v1"
    assert releases.secret_name("app", "Prod_EU", 2) == "sailplan.app.prod-eu.v2"
