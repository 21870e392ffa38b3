from __future__ import annotations

import pytest

from tagbot.scan import bake, kind_of, read_file
from tests.helpers import fixture


def test_hcl_targets_declare_their_literal_platforms():
    scanned = read_file(fixture("bake", "docker-bake.hcl"), name="docker-bake.hcl", kind="bake")
    # The commented-out list and the interpolated `${EXTRA_PLATFORM}` say nothing.
    assert [(d.where, d.platform) for d in scanned.platforms] == [
        ("docker-bake.hcl:9", "linux/amd64"),
        ("docker-bake.hcl:10", "linux/arm64"),
    ]
    assert scanned.references == []


def test_json_targets_declare_their_platforms():
    scanned = read_file(fixture("bake", "docker-bake.json"), name="docker-bake.json", kind="bake")
    assert [(d.where, d.platform) for d in scanned.platforms] == [
        ("docker-bake.json:5", "linux/amd64"),
        ("docker-bake.json:5", "linux/ppc64le"),
    ]


def test_text_that_is_not_a_list_declares_nothing():
    assert bake.declared_platforms('platforms = "linux/amd64"\nplatforms = [\n', []) == []


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("docker-bake.hcl", "bake"),
        ("build/docker-bake.json", "bake"),
        ("docker-bake.override.hcl", "bake"),
        ("bake.hcl", None),
        ("docker-bake.yaml", "kubernetes"),  # any other YAML file may be a manifest,
    ],
)
def test_file_names(path, kind):
    assert kind_of(path) == kind
