"""Buildkite, Podman Quadlet, Terraform, Nomad and Ansible, from files in the shapes those
projects document (tests/fixtures/repos/infra, and Buildkite's in tests/fixtures/repos/ci), with
their quirks: Buildkite's plugin versions and maps of plugins; Quadlet's line continuations,
units naming units, specifiers and CRLF; Terraform's heredocs, interpolations, VM images and
resource references; Nomad's variables; Ansible's name-and-tag tasks, key=value arguments,
builds, Jinja, and Tekton manifests in `tasks/` folders."""

from __future__ import annotations

import pytest

from tagbot.errors import ScanError
from tagbot.scan import ansible, buildkite, hcl, kind_of, nomad, quadlet, read_file, terraform
from tests.helpers import FIXTURES, found_rows

INFRA = FIXTURES / "repos" / "infra"


def rows(name: str, root=INFRA) -> list[tuple[int, int, str, str | None]]:
    kind = kind_of(name)
    assert kind is not None, name
    scanned = read_file(root / name, name=name, kind=kind)
    text = (root / name).read_bytes().decode()
    found_rows([r.found for r in scanned.references], text)  # every piece stands where it says
    return [(r.line, r.column, r.found.text, r.found.skip_reason) for r in scanned.references]


@pytest.mark.parametrize(("path", "kind"), [
    (".buildkite/pipeline.yml", "buildkite"), (".buildkite/release.yaml", "buildkite"), ("ci/buildkite.yml", "buildkite"),
    ("quadlet/web.container", "quadlet"), ("db.image", "quadlet"), ("data.volume", "quadlet"),
    ("main.tf", "terraform"), ("infra/modules/db/main.tofu", "terraform"),
    ("jobs/web.nomad", "nomad"), ("jobs/web.nomad.hcl", "nomad"), ("docker-bake.hcl", "bake"), ("config.hcl", None),
    ("roles/db/tasks/main.yml", "ansible"), ("roles/db/handlers/main.yaml", "ansible"), ("site.yml", "ansible"),
    ("playbooks/deploy.yml", "ansible"), ("deploy-playbook.yaml", "ansible"), ("molecule/default/converge.yml", "ansible"),
    ("roles/db/defaults/main.yml", "kubernetes"), (".buildkite/hooks/pre-command", None),
])
def test_each_kind_claims_its_files(path: str, kind: str | None):
    assert kind_of(path) == kind


def test_buildkite_reads_docker_plugins_listed_or_mapped_in_groups_and_step_images():
    assert rows(".buildkite/pipeline.yml", FIXTURES / "repos" / "ci") == [
        (9, 19, "node:22.23.2", None),  # docker#v5.11.0: the plugin's version is no image
        (16, 16, "python:3.11.16", None),  # a map of plugins, named by their repository
        (24, 22, "postgres:16.4-bookworm", None),  # docker-compose, inside a group
        (26, 12, "redis:7.2.5-alpine", None),  # a step's image, for hosted and Kubernetes agents
        (31, 19, "$NODE_IMAGE", "variable"),
    ]


def test_buildkite_passes_over_other_plugins_and_plain_steps():
    text = "steps:\n- wait\n- plugins: [{docker-login#v3: {image: x:1}}, ecr#v2.9.0]\n- command: make\n"
    assert buildkite.extract(text) == []


def test_quadlet_reads_image_settings_of_its_three_sections_crlf_kept():
    data = (INFRA / "quadlet/web.container").read_bytes()
    assert b"\r\n" in data
    # The commented Image= and the one on a continued PodmanArgs= line are not settings.
    assert rows("quadlet/web.container") == [(6, 7, "docker.io/library/node:22.23.2", None)]
    assert rows("quadlet/db.image") == [(2, 7, "postgres:16.4-bookworm", None)]
    assert rows("quadlet/data.volume") == [(3, 7, "quay.io/acme/data:2024.1", None)]
    assert rows("quadlet/db.container") == [(2, 7, "db.image", "build")]  # another unit of the repository
    assert rows("quadlet/worker@.container") == [(2, 7, "ghcr.io/acme/worker:%i", "variable")]


def test_quadlet_reads_only_its_sections_and_passes_over_files_that_are_no_units(tmp_path):
    text = "[Service]\nImage=nginx:1.27\n[Container]\n  Image = nginx:1.27  \nExec=a \\\n\\\nImage=x:1\n"
    assert found_rows(quadlet.extract(text), text) == [("nginx:1.27", None)]
    disk = tmp_path / "disk.image"
    disk.write_bytes(b"\x00\xffQFI\xfb" * 100)  # a virtual machine's disk, by the same name
    assert read_file(disk, name="disk.image", kind="quadlet").references == []


def test_terraform_reads_containers_named_images_variables_and_heredocs():
    assert rows("terraform/main.tf") == [
        (9, 14, "redis:7.2.5-alpine", None),  # variable "redis_image"'s default
        (17, 19, "nginx:1.26.3", None),  # docker_image's name, a comment after it
        (22, 11, "acme/app:1.0", "build"),  # built by its build {} block
        (30, 12, "postgres:${var.tag}", "variable"),
        (45, 20, "python:3.11.16", None),  # init_container
        (49, 20, "node:22.23.2", None),
        (69, 16, "alpine:3.20", None),  # jsonencode([{ image = ... }]), tagged
    ]  # not: docker_image.nginx.image_id, the VM's debian-cloud/debian-12, the commented-out block
    assert rows("terraform/jobs.tf") == [
        (8, 22, "redis:7.2.5-alpine", None),  # a nomad_job's jobspec heredoc
        (14, 22, "oliver006/redis_exporter:${var.exporter}", "variable"),
        (26, 32, "postgres:16.4-bookworm", None),  # container_definitions JSON in a heredoc
    ]


def test_nomad_reads_task_configs_and_image_variables():
    assert rows("nomad/web.nomad.hcl") == [
        (3, 14, "node:22.23.2", None),  # variable "image"; `image = var.image` is no string
        (20, 18, "docker.io/library/nginx:1.26.3", None),  # podman driver
        (31, 18, "busybox:${NOMAD_META_busybox}", "variable"),
    ]


@pytest.mark.parametrize(("text", "line", "problem"), [
    ('resource "a" "b" {\n  image = "x:1\n}\n', 2, "a string is never closed"),
    ('resource "a" "b" {\n  image = "x:1"\n', None, "a block or bracket is never closed"),
    ('a = 1\n}\n', 2, "} closes nothing"),
    ('x = <<EOT\nimage = "a:1"\n', 1, "heredoc EOT is never closed"),
    ("a" + "{" * 200, 1, "nested more than 100 levels deep"),
    ('image = "${' + "{" * 20 + '"\n', 1, "a string is never closed"),
])
def test_hcl_that_cannot_be_followed_is_an_error_naming_its_line(text: str, line: int | None, problem: str):
    with pytest.raises(ScanError) as raised:
        terraform.extract(text)
    assert (raised.value.line, raised.value.problem) == (line, problem)


def test_a_heredoc_jobspec_that_is_no_hcl_names_the_files_line():
    text = 'resource "nomad_job" "j" {\n  jobspec = <<EOT\njob "x" {\n  image = "a:1\n}\nEOT\n}\n'
    with pytest.raises(ScanError) as raised:
        terraform.extract(text)
    assert (raised.value.line, raised.value.problem) == (4, "in the jobspec heredoc: a string is never closed")


def test_hcl_strings_keep_escapes_and_templates_for_the_caller_to_skip():
    text = 'config {\n  image = "a\\"b:1"\n}\nconfig { image = "x:${"}"}" }\n'
    assert [(a.key, a.text, a.escaped, a.templated) for a in hcl.string_attributes(text)] == [
        ("image", 'a\\"b:1', True, False), ("image", 'x:${"}"}', False, True)]
    assert found_rows(nomad.extract(text), text) == [('a\\"b:1', "unsupported"), ('x:${"}"}', "variable")]


def test_ansible_reads_container_and_image_tasks_wherever_plays_nest_them():
    assert rows("ansible/site.yml") == [
        (9, 15, "nginx:1.26.3", None),  # name: nginx, tag: "1.26.3": the tag is where it is edited
        (15, 17, "node:22.23.2", None),
        (21, 20, "docker.io/library/postgres:16.4-bookworm", None),  # containers.podman, in a block
        (24, 46, "redis:7.2.5-alpine", None),  # key=value arguments, in a rescue
        (27, 15, "acme/app", "build"),
        (35, 17, "acme/worker:{{ worker_tag }}", "variable"),
    ]
    assert rows("ansible/roles/cache/tasks/main.yml") == [(3, 11, "redis:7.2.5-alpine", None),
                                                          (7, 10, "python:3.11.16", None)]


def test_tekton_tasks_in_a_tasks_folder_are_read_as_kubernetes(tmp_path):
    (tmp_path / "tasks").mkdir()
    task = tmp_path / "tasks" / "build.yaml"
    task.write_text("apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - name: b\n    image: golang:1.22\n")
    scanned = read_file(task, name="tasks/build.yaml", kind="ansible")
    assert [(r.kind, r.found.text) for r in scanned.references] == [("kubernetes", "golang:1.22")]


def test_ansible_passes_over_other_modules_and_names_that_hold_no_image():
    text = ("- ansible.builtin.copy: {src: a, dest: b}\n- docker_image: {name: ''}\n"
            "- community.docker.docker_container: name=x state=absent\n- docker_container: {image: [a]}\n")
    assert ansible.extract(text) == []


def test_nomad_reads_the_podman_drivers_transport_as_no_part_of_the_image():
    # Found on brucellino/nomad-jobs (observability-plane/grafana.nomad): reported invalid before.
    text = 'task "db" {\n  driver = "podman"\n  config {\n    image = "docker://arm64v8/mysql:oracle"\n  }\n}\n'
    assert found_rows(nomad.extract(text), text) == [("arm64v8/mysql:oracle", None)]
