"""More CI systems: CircleCI, Bitbucket Pipelines, Azure Pipelines, Drone and Woodpecker, Google
Cloud Build, from files in the shapes those projects document (tests/fixtures/repos/ci), with
their quirks: orbs' executors, machine images and pipeline parameters; Bitbucket's
`{name: ...}` images with credentials and pipes; Azure's container aliases, template expressions
and macros; Drone's multi-document CRLF files and Woodpecker's maps; Cloud Build's
substitutions."""

from __future__ import annotations

import pytest

from tagbot.errors import ScanError
from tagbot.scan import azure, bitbucket, circleci, cloudbuild, drone, jenkinsfile, kind_of, read_file
from tests.helpers import FIXTURES, found_rows

CI = FIXTURES / "repos" / "ci"


def rows(name: str) -> list[tuple[int, int, str, str | None]]:
    kind = kind_of(name)  # the kind the file's name says
    assert kind is not None, name
    scanned = read_file(CI / name, name=name, kind=kind)
    return [(r.line, r.column, r.found.text, r.found.skip_reason) for r in scanned.references]


@pytest.mark.parametrize(("path", "kind"), [
    (".circleci/config.yml", "circleci"), ("svc/.circleci/config.yaml", "circleci"),
    ("bitbucket-pipelines.yml", "bitbucket"), ("azure-pipelines.yml", "azure"),
    (".azure-pipelines/release.yml", "azure"), ("ci/.azure-pipelines/steps/build.yaml", "azure"),
    (".drone.yml", "drone"), (".woodpecker.yml", "drone"), (".woodpecker/build.yaml", "drone"),
    ("cloudbuild.yaml", "cloudbuild"), ("deploy/cloudbuild-prod.yml", "cloudbuild"),
    ("test/cloudbuild_gcb_run.yaml", "cloudbuild"),  # found on GoogleCloudPlatform/cloud-builders
    ("Jenkinsfile", "jenkinsfile"), ("ci/Jenkinsfile.release", "jenkinsfile"), ("deploy.jenkinsfile", "jenkinsfile"),
    (".circleci/other.yml", "kubernetes"), ("woodpecker/build.yaml", "kubernetes"), ("Jenkinsfile.md", None),
])
def test_each_kind_claims_its_files(path: str, kind: str):
    assert kind_of(path) == kind


def test_circleci_reads_docker_images_of_jobs_executors_and_orbs_and_skips_machines():
    assert rows(".circleci/config.yml") == [
        (7, 20, "python:3.11.16", None),  # an orb's inline executor
        (11, 16, "node:22.23.2", None),  # an executor, with auth beside it
        (21, 17, "node:22.23.2", None),
        (22, 16, "postgres:<< parameters.pg >>", "variable"),
        (23, 16, "redis:7.2.5-alpine", None),
        (27, 14, "ubuntu-2204:2024.01.1", "unsupported"),  # a virtual machine's image
    ]


def test_bitbucket_reads_images_as_strings_or_names_services_and_docker_pipes():
    assert rows("bitbucket-pipelines.yml") == [
        (2, 9, "python:3.11.16", None),  # {name:, username:, password:}
        (8, 14, "postgres:16.4-bookworm", None),
        (11, 15, "redis:7.2.5-alpine", None),
        (16, 16, "node:22.23.2", None),
        (20, 28, "alpine:3.20", None),  # pipe: docker://...; atlassian/... pipes are not read
        (25, 18, "$PRIVATE_REGISTRY/app:1.0", "variable"),
    ]


def test_azure_reads_containers_resources_and_services_not_aliases():
    assert rows("azure-pipelines.yml") == [
        (4, 14, "postgres:16.4-bookworm", None),
        (6, 15, "python:3.11.16", None),
        (12, 14, "redis:7.2.5-alpine", None),  # `db: pg` and `container: linux` are aliases
        (16, 14, "node:22.23.2", None),
        (19, 16, "${{ parameters.image }}", "variable"),
        (21, 16, "$(registry)/app:1.0", "variable"),
    ]
    assert rows(".azure-pipelines/release.yml") == [(3, 16, "alpine:3.20", None)]


def test_drone_reads_every_document_crlf_kept_and_woodpeckers_maps():
    text = (CI / ".drone.yml").read_bytes().decode()
    assert "\r\n" in text
    assert found_rows(drone.extract(text), text) == [
        ("golang:1.20", None), ("redis:7.2.5-alpine", None), ("alpine:3.20", None),
        ("plugins/docker:${DRONE_TAG}", "variable")]
    assert rows(".woodpecker/build.yaml") == [(3, 12, "golang:1.20", None), (6, 13, "alpine:3.20", None),
                                             (9, 12, "postgres:16.4-bookworm", None)]


def test_woodpecker_steps_sharing_an_image_through_a_merge_key_name_it_where_it_is_written():
    # Found on woodpecker-ci/woodpecker: `<<: *base-step` brings the image in.
    text = ("variables:\n  - &base-step\n    image: golang:1.20\n    commands: [make]\n"
            "steps:\n  build:\n    <<: *base-step\n  test:\n    <<: *base-step\n    commands: [make test]\n")
    assert found_rows(drone.extract(text), text) == [("golang:1.20", None)]


def test_cloud_build_reads_step_names_and_skips_substitutions():
    assert rows("cloudbuild.yaml") == [
        (2, 11, "node:22.23.2", None),
        (5, 11, "gcr.io/cloud-builders/docker", None),  # untagged: latest
        (7, 12, "${_TOOLS}/deployer:1.2", "variable"),
    ]


def test_jenkins_reads_agents_and_scripted_images_not_comments():
    assert rows("Jenkinsfile") == [
        (3, 21, "node:22.23.2", None),  # agent { docker { image '...' } }
        (7, 23, "python:3.11.16", None),  # agent { docker "..." }
        (13, 25, "postgres:16.4-bookworm", None),  # docker.image('...')
        (14, 27, "redis:${REDIS_TAG}", "variable"),  # interpolated when the pipeline runs
    ]  # the stage commented out with // is not read
    text = "// agent { docker { image 'node:14' } }\r\nnode { docker.image('redis:7.2.5').inside {} }\r\n"
    assert found_rows(jenkinsfile.extract(text), text) == [("redis:7.2.5", None)]


@pytest.mark.parametrize("scanner", [circleci, bitbucket, azure, drone, cloudbuild])
def test_bad_yaml_is_one_error_naming_the_line(scanner):
    with pytest.raises(ScanError) as caught:
        scanner.extract("steps:\n  - image: [unclosed\n")
    assert (caught.value.line, caught.value.problem) == (3, "invalid YAML: did not find expected ',' or ']'")


@pytest.mark.parametrize("scanner", [circleci, bitbucket, azure, drone, cloudbuild])
def test_a_bom_keeps_offsets(scanner):
    text = {"circleci": "\ufeffjobs:\n  a:\n    docker:\n      - image: redis:7.2.5\n",
            "bitbucket": "\ufeffimage: redis:7.2.5\n",
            "azure": "\ufeffjobs:\n  - job: a\n    container: redis:7.2.5\n",
            "drone": "\ufeffsteps:\n  - name: a\n    image: redis:7.2.5\n",
            "cloudbuild": "\ufeffsteps:\n  - name: redis:7.2.5\n"}[scanner.KIND]
    assert found_rows(scanner.extract(text), text) == [("redis:7.2.5", None)]


def test_an_anchor_set_twice_is_read_as_yaml_reads_it_not_an_error():
    # Found on ethereum/solidity's .circleci/config.yml: the whole file was an error before.
    text = ("\ufeffa: &env {x: 1}\nb: &env\n  docker:\n    - image: cimg/node:20.11\n"
            "jobs:\n  t: *env\n  u:\n    docker: [{image: 'python:3.12.1'}]\n")
    assert found_rows(circleci.extract(text), text) == [("cimg/node:20.11", None), ("python:3.12.1", None)]
