from __future__ import annotations

import pytest

from tagbot.errors import ScanError
from tagbot.scan import kind_of, read_file, workflows
from tests.helpers import fixture, found_rows


def declared(text: str) -> list[tuple[int, str]]:
    """(line, platform) pairs, as people would point at them."""
    return [(text.count("\n", 0, offset) + 1, platform) for offset, platform in workflows.declared_platforms(text, [])]


def test_build_push_action_inputs_and_build_commands_declare_platforms():
    scanned = read_file(fixture("workflows", "release.yml"), name=".github/workflows/release.yml", kind="workflow")
    assert [(d.where, d.platform) for d in scanned.platforms] == [
        (".github/workflows/release.yml:16", "linux/amd64"),
        (".github/workflows/release.yml:16", "linux/arm64"),
        # `${{ matrix.platform }}` is known when the workflow runs, not here: nothing from line 26.
        (".github/workflows/release.yml:31", "linux/arm/v7"),  # a `run: |` block's continued command
        (".github/workflows/release.yml:32", "linux/s390x"),
    ]
    assert scanned.references == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # one a line, as the action's docs also allow
        ("jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v5\n        with:\n"
         "          platforms: |\n            linux/amd64\n            linux/arm64\n",
         [(6, "linux/amd64"), (6, "linux/arm64")]),
        # another action's `platforms:` says nothing about images
        ("jobs:\n  b:\n    steps:\n      - uses: docker/setup-qemu-action@v3\n        with:\n          platforms: arm64\n", []),
        # a job calling Docker's reusable build workflow, or the repository's own
        ("jobs:\n  build:\n    uses: docker/github-builder/.github/workflows/build.yml@5f63\n    with:\n"
         "      platforms: linux/amd64,linux/riscv64\n", [(5, "linux/amd64"), (5, "linux/riscv64")]),
        ("jobs:\n  build:\n    uses: ./.github/workflows/image.yml\n    with:\n      platforms: linux/arm64\n",
         [(5, "linux/arm64")]),
        # a composite action's steps
        ("runs:\n  using: composite\n  steps:\n    - run: docker buildx build --platform linux/arm64 .\n", [(4, "linux/arm64")]),
        ("on: push\n", []),
        ("", []),
    ],
)
def test_what_declares_a_platform(text, expected):
    assert declared(text) == expected


def test_invalid_yaml_is_an_error_naming_the_line():
    with pytest.raises(ScanError, match="invalid YAML") as raised:
        workflows.declared_platforms("jobs:\n  b: [\n", [])
    assert raised.value.line == 3


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (".github/workflows/ci.yml", "workflow"),
        (".github/workflows/release.yaml", "workflow"),
        ("sub/.github/workflows/ci.yml", "workflow"),
        (".github/workflows/nested/ci.yml", "kubernetes"),  # any other YAML file may be a manifest,
        ("workflows/ci.yml", "kubernetes"),
        (".github/dependabot.yml", "kubernetes"),
    ],
)
def test_file_names(path, kind):
    assert kind_of(path) == kind


IMAGES = """\
name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    container: node:22.23.2-alpine
    services:
      db:
        image: "postgres:16.4"  # the database
        env: {POSTGRES_PASSWORD: x}
      cache: redis:7.2.5-alpine
      matrix-db:
        image: ${{ matrix.db }}
    steps:
      - uses: actions/checkout@v4
      - uses: docker://alpine:3.20
      - name: quoted, with a comment
        uses: 'docker://ghcr.io/acme/tool:1.2.0' # tool
      - uses: docker://
  build:
    container:
      image: python:3.12.14
      credentials: {username: u, password: p}
"""


def test_job_containers_services_and_docker_steps():
    found = workflows.extract(IMAGES)
    assert found_rows(found, IMAGES) == [
        ("node:22.23.2-alpine", None),
        ("postgres:16.4", None),
        ("redis:7.2.5-alpine", None),
        ("${{ matrix.db }}", "variable"),
        ("alpine:3.20", None),
        ("ghcr.io/acme/tool:1.2.0", None),
        ("docker://", "invalid"),
        ("python:3.12.14", None),
    ]
    alpine = found[4]
    assert IMAGES[alpine.pieces[0].start - len("docker://") : alpine.pieces[0].start] == "docker://"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a Docker action's own image, and a composite action's steps
        ("runs:\n  using: docker\n  image: docker://alpine:3.20\n", [("alpine:3.20", None)]),
        ("runs:\n  using: docker\n  image: Dockerfile\n", []),
        ("runs:\n  using: composite\n  steps:\n    - uses: docker://alpine:3.20\n", [("alpine:3.20", None)]),
        ("jobs:\n  a:\n    container: [node]\n    services: [redis]\n", []),
        ("jobs: 3\n", []),
    ],
)
def test_workflow_image_rules(text, expected):
    assert found_rows(workflows.extract(text), text) == expected


@pytest.mark.parametrize("path", ["action.yml", "actions/setup/action.yaml"])
def test_actions_are_read_as_workflows(path):
    assert kind_of(path) == "workflow"
