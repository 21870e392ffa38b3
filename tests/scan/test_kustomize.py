from __future__ import annotations

import pytest

from tagbot.errors import ScanError
from tagbot.scan import kind_of, kustomize, read_file
from tests.helpers import fixture, fixture_text, found_rows

ALPINE = "sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1"


def test_images_entries():
    scanned = read_file(fixture("kustomize", "kustomization.yaml"), name="k/kustomization.yaml", kind="kustomize")
    rows = [(r.line, r.found.text, r.found.skip_reason) for r in scanned.references]
    assert rows == [
        (8, "my-registry.example.com/db/postgres:16.4", None),  # newName wins over name
        (10, "nginx:1.31.3-alpine", None),
        (12, "ghcr.io/acme/app", "default"),  # renames only: the manifests' tags stay
        (13, f"alpine@{ALPINE}", None),  # no tag: placed at its name
        (16, "redis:7.2.5-alpine@sha256:" + "0" * 64, None),  # a newTag holding both
        (18, "python:3.12.14@sha256:" + "1" * 64, None),  # newTag and digest: both followed
    ]


def test_only_new_tag_and_digest_are_places_to_edit():
    text = fixture_text("kustomize", "kustomization.yaml")
    found = kustomize.extract(text)
    found_rows(found, text)
    python = found[-1]
    assert python.image is not None and python.composed
    written = {p.text for p in python.pieces if p.start >= 0}
    assert written == {"python", "3.12.14", "sha256:" + "1" * 64}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("images: []\n", []),
        ("images: nginx\n", []),
        ("images:\n- newTag: '1'\n", []),  # no name
        ("images:\n- name: nginx\n  newTag: ${TAG}\n", [("nginx:${TAG}", "variable")]),
        ("images:\n- name: nginx\n  newTag: [1]\n", [("nginx", "default")]),
        ("images:\n- name: nginx\n  newTag: 'a b'\n", [("nginx:a b", "invalid")]),
        ("resources: [a.yaml]\n", []),
    ],
)
def test_kustomize_rules(text, expected):
    assert found_rows(kustomize.extract(text), text) == expected


def test_invalid_yaml_is_an_error():
    with pytest.raises(ScanError, match="invalid YAML"):
        kustomize.extract("images:\n- name: [\n")


@pytest.mark.parametrize(
    ("path", "kind"),
    [("kustomization.yaml", "kustomize"), ("base/kustomization.yml", "kustomize"), ("o/Kustomization", "kustomize"),
     ("kustomization.json", None)],
)
def test_file_names(path, kind):
    assert kind_of(path) == kind
