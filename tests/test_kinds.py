"""End to end: `tagbot update` on a repository with one file of every kind, against the fake
tags API: each file rewritten byte-exactly (BOM, CRLF, comments and quoting kept), only the tag
and digest characters touched, and a second run changes nothing."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest

from tagbot.cli import main
from tests.fakeapi import FakeTagsAPI
from tests.helpers import FIXTURES, fixture_repository, load_tags, on_day

FIXTURES_DEPLOY = FIXTURES / "repos" / "deploy"
NGINX_1_31_4_ALPINE = next(t.digest for t in load_tags("library/nginx") if t.name == "1.31.4-alpine")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI) -> Path:
    on_day(monkeypatch)  # prometheus 3.14 ended 2026-09-30: the decisions are the recording day's
    return fixture_repository("deploy", tmp_path, monkeypatch, tags_api.url)


def changed_lines(before: bytes, after: bytes) -> list[tuple[str, str]]:
    """(old line, new line) for each line that changed; the line count must not change."""
    old, new = before.decode().splitlines(keepends=True), after.decode().splitlines(keepends=True)
    assert len(old) == len(new)
    assert [op for op, *_ in difflib.SequenceMatcher(None, old, new).get_opcodes() if op not in ("equal", "replace")] == []
    return [(a, b) for a, b in zip(old, new) if a != b]


def updated(repo: Path) -> tuple[dict[str, bytes], dict[str, list[tuple[str, str]]]]:
    """`tagbot update` in `repo`: every file's bytes after it, and the lines it changed, by file."""
    before = {p.relative_to(repo).as_posix(): p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    assert main(["update"]) == 0
    after = {name: (repo / name).read_bytes() for name in before}
    return after, {name: changed_lines(before[name], after[name]) for name in before if before[name] != after[name]}


def fixture_on_the_recorded_day(name: str, config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                tags_api: FakeTagsAPI) -> Path:
    """A copy of tests/fixtures/repos/`name` with `config` as its tagbot.yaml, on the day the
    fixtures were recorded (release lines are judged as of a day)."""
    on_day(monkeypatch)
    repo = fixture_repository(name, tmp_path, monkeypatch, tags_api.url)
    (repo / "tagbot.yaml").write_text(config)
    return repo


def test_every_kind_is_found_and_named(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["scan", "--format", "json"]) == 0
    references = json.loads(capsys.readouterr().out)["references"]
    kinds = {(r["file"], r["kind"]) for r in references}
    assert kinds == {
        (".devcontainer/devcontainer.json", "devcontainer"),
        (".github/workflows/ci.yml", "workflow"),
        (".gitlab-ci.yml", "gitlab"),
        ("chart/templates/job.yaml", "kubernetes"),
        ("chart/values.yaml", "helm"),
        ("docker-compose.yml", "compose"),
        ("k8s/deployment.yaml", "kubernetes"),
        ("overlays/prod/kustomization.yaml", "kustomize"),
    }
    assert len(references) == 20


def test_update_rewrites_each_kind_byte_exactly_and_once(repo: Path, tags_api: FakeTagsAPI,
                                                         capsys: pytest.CaptureFixture[str]):
    after, changes = updated(repo)
    assert changes == {
        "k8s/deployment.yaml": [  # BOM and CRLF kept; the comment and quotes too
            ('          image: "alpine:3.20" # wait for the db\r\n', '          image: "alpine:3.24" # wait for the db\r\n'),
            ("          image: nginx:1.31.3-alpine\r\n", "          image: nginx:1.31.4-alpine\r\n"),
        ],
        "chart/values.yaml": [  # only tag and digest values
            ("  tag: 16.10.0-debian-12-r3\n", "  tag: 17.6.0-debian-12-r3\n"),
            ('    tag: "v2.54.1"   # keep quoted\n', '    tag: "v3.14.0"   # keep quoted\n'),
            ("    tag: '1.31.3-alpine'\n", "    tag: '1.31.4-alpine'\n"),
            ("    digest: sha256:" + "0" * 64 + "\n", f"    digest: {NGINX_1_31_4_ALPINE}\n"),
            ("cacheImage: redis:7.2.5-alpine\n", "cacheImage: redis:8.10.1-alpine\n"),
        ],
        "chart/templates/job.yaml": [
            ("          image: postgres:16.4 # literal, in a template\n", "          image: postgres:18.6 # literal, in a template\n"),
        ],
        "overlays/prod/kustomization.yaml": [  # only newTag
            ('    newTag: "16.4"\n', '    newTag: "18.6"\n'),
            ("    newTag: 3.11.16   # minor pins\n", "    newTag: 3.14.7   # minor pins\n"),
        ],
        ".gitlab-ci.yml": [  # the variables the tags come from (GO's image is in ci/test.yml); the proxy prefix kept
            ('  PYTHON_VERSION: "3.11.16"\n', '  PYTHON_VERSION: "3.14.7"\n'),
            ('  GO: "1.25.14"\n', '  GO: "1.27.0"\n'),
            ("  - name: $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/redis:7.2.5-alpine\n",
             "  - name: $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/redis:8.10.1-alpine\n"),
        ],
        ".devcontainer/devcontainer.json": [
            # 22 is an LTS line: to 24, the newest LTS that day; 26 is "Current" until 2026-10-28
            ('\t"image": "node:22.23.2-alpine", // LTS\n', '\t"image": "node:24.19.0-alpine", // LTS\n'),
        ],
        ".github/workflows/ci.yml": [
            ("    container: 'python:3.11.16'\n", "    container: 'python:3.14.7'\n"),
            ("        image: redis:7.2.5-alpine\n", "        image: redis:8.10.1-alpine\n"),
            ("      - uses: docker://alpine:3.20 # lint\n", "      - uses: docker://alpine:3.24 # lint\n"),
        ],
        "docker-compose.yml": [  # a v1 file with template lines
            ("  image: nginx:1.31.3-alpine\n", "  image: nginx:1.31.4-alpine\n"),
            ("  image: alpine:3.20\n", "  image: alpine:3.24\n"),
        ],
    }
    assert after["k8s/deployment.yaml"].startswith(b"\xef\xbb\xbf# web tier\r\n")
    capsys.readouterr()

    # Idempotent: a second run finds everything current and writes nothing.
    assert main(["update"]) == 0
    assert "everything is up to date" in capsys.readouterr().out
    assert {name: (repo / name).read_bytes() for name in after} == after


def test_a_pin_has_no_place_in_a_composed_reference(repo: Path, capsys: pytest.CaptureFixture[str]):
    (repo / "tagbot.yaml").write_text((repo / "tagbot.yaml").read_text() + "pin_digests: true\n")
    assert main(["update", "--dry-run", "--format", "json", "--include", "overlays/**"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {u["file"] for u in out["updates"]} == {"overlays/prod/kustomization.yaml"}
    assert all(u["to"]["digest"] is None for u in out["updates"])
    assert any("put together from values written apart" in h["reason"] for h in out["held_back"])


def test_a_value_shared_by_other_images_is_not_edited_for_one(repo: Path, capsys: pytest.CaptureFixture[str]):
    """`ARG V` makes both alpine:${V} and golang:...-alpine${V}: moving V for alpine's sake
    would move golang to a tag nobody chose. Two references of one image that share it move together."""
    for path in [p for p in repo.rglob("*") if p.is_file() and p.name != "tagbot.yaml"]:
        path.unlink()
    (repo / "Dockerfile").write_text("ARG V=3.20\nFROM alpine:${V}\nFROM golang:1.25.14-alpine${V}\n")
    (repo / "ci").mkdir(exist_ok=True)
    (repo / ".gitlab-ci.yml").write_text("include: ci/a.yml\nvariables: {A: '3.20'}\nimage: alpine:$A\n")
    (repo / "ci" / "a.yml").write_text("job: {image: 'alpine:$A'}\n")
    assert main(["update", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(u["file"], u["line"], u["to"]["tag"]) for u in out["updates"]] == [(".gitlab-ci.yml", 2, "3.24")]
    assert {"file": "Dockerfile", "line": 1, "image": "alpine:3.20",
            "reason": "not updated (3.20 -> 3.24 (minor)): the value it edits also makes "
                      "golang:1.25.14-alpine3.20 (Dockerfile:3), which would change too"} in out["held_back"]
    assert (repo / "Dockerfile").read_text() == "ARG V=3.20\nFROM alpine:${V}\nFROM golang:1.25.14-alpine${V}\n"
    assert (repo / ".gitlab-ci.yml").read_text() == "include: ci/a.yml\nvariables: {A: '3.24'}\nimage: alpine:$A\n"


def test_the_config_chooses_kinds_and_excludes_files(repo: Path, capsys: pytest.CaptureFixture[str]):
    (repo / "tagbot.yaml").write_text("kinds: [kubernetes, gitlab]\nexclude: [chart/**]\n")
    assert main(["scan", "--format", "json"]) == 0
    files = {r["file"] for r in json.loads(capsys.readouterr().out)["references"]}
    assert files == {"k8s/deployment.yaml", ".gitlab-ci.yml"}  # chart/templates is excluded
    # --exclude adds to the config's
    assert main(["scan", "--format", "json", "--exclude", ".gitlab-ci.yml"]) == 0
    assert {r["file"] for r in json.loads(capsys.readouterr().out)["references"]} == {"k8s/deployment.yaml"}


@pytest.mark.parametrize(
    ("text", "message"),
    [("kinds: [helm, pulumi]\n", "tagbot.yaml:1: error: kinds: unknown kind 'pulumi'; known: dockerfile, compose, "),
     ("kinds: 3\n", "tagbot.yaml:1: error: kinds: expected a string or a list of strings"),
     ("exclude: [1]\n", "tagbot.yaml:1: error: exclude: expected a string or a list of strings")],
)
def test_bad_kinds_are_one_line_naming_the_setting(repo: Path, capsys: pytest.CaptureFixture[str], text: str, message: str):
    (repo / "tagbot.yaml").write_text(text)
    assert main(["scan"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_every_kind_keeps_a_bom_and_crlf_line_endings(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Written with a BOM and CRLF endings, every kind gets the same edits as with LF, and keeps both."""
    def normalised(data: bytes) -> bytes:
        return data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")

    lf = tmp_path / "lf"
    shutil.copytree(repo, lf)
    names = [p.relative_to(repo) for p in repo.rglob("*") if p.is_file() and p.name != "tagbot.yaml"]
    for name in names:
        (lf / name).write_bytes(normalised((lf / name).read_bytes()))
        (repo / name).write_bytes(b"\xef\xbb\xbf" + normalised((repo / name).read_bytes()).replace(b"\n", b"\r\n"))
    monkeypatch.chdir(lf)
    assert main(["update"]) == 0
    monkeypatch.chdir(repo)
    assert main(["update"]) == 0
    for name in names:
        crlf = (repo / name).read_bytes()
        assert crlf.startswith(b"\xef\xbb\xbf") and b"\n" not in crlf.replace(b"\r\n", b""), name
        assert normalised(crlf) == (lf / name).read_bytes(), name
    assert sum((lf / name).read_bytes() != normalised((FIXTURES_DEPLOY / name).read_bytes()) for name in names) == 8


def test_a_pin_goes_into_a_charts_empty_digest_value(repo: Path, capsys: pytest.CaptureFixture[str]):
    (repo / "tagbot.yaml").write_text((repo / "tagbot.yaml").read_text() + "pin_digests: true\n")
    before = (repo / "chart" / "values.yaml").read_text()
    assert main(["update", "--include", "chart/values.yaml"]) == 0
    after = (repo / "chart" / "values.yaml").read_text()
    postgres = next(t.digest for t in load_tags("bitnami/postgresql") if t.name == "17.6.0-debian-12-r3")
    assert f'  digest: "{postgres}"\n' in after  # between the quotes of `digest: ""`
    assert after.count("\n") == before.count("\n")
    # prom/prometheus has no digest key: no place for a pin, so none is made.
    assert '    tag: "v3.14.0"   # keep quoted\n' in after and "prometheus@" not in after
    capsys.readouterr()
    assert main(["update", "--include", "chart/values.yaml"]) == 0  # and it is followed from now on
    assert (repo / "chart" / "values.yaml").read_text() == after


def test_operators_files_are_updated_in_their_own_fields_and_blocks_and_once(tmp_path: Path, monkeypatch,
                                                                            tags_api: FakeTagsAPI, capsys):
    # Crossplane's packages live at xpkg.upbound.io, which is not on this machine.
    repo = fixture_on_the_recorded_day("operators", "rate_limit: 500\nmax_tag_pages: 100\n"
                                       "registries: {xpkg.upbound.io: {source: off}}\n", tmp_path, monkeypatch, tags_api)
    after, changes = updated(repo)
    assert changes == {
        "argo/workflow.yaml": [("        image: alpine:3.20\n", "        image: alpine:3.24\n"),
                               ("        image: python:3.11.16\n", "        image: python:3.14.7\n")],
        "chart/values.yaml": [("        image: alpine:3.20\n", "        image: alpine:3.24\n"),  # in katibConfig: |
                              ("    tag: 16.4-bookworm\n", "    tag: 18.6-bookworm\n")],
        "config/katib-configmap.yaml": [  # inside config.yaml: |, CRLF and the comment kept
            ('          image: "python:3.11.16" # keep\r\n', '          image: "python:3.14.7" # keep\r\n'),
            ("      - image: alpine:3.20\r\n", "      - image: alpine:3.24\r\n")],
        "katib/katib-config.yaml": [
            ('      image: "python:3.11.16"  # the collector\n', '      image: "python:3.14.7"  # the collector\n'),
            ("      image: python:3.11.16\n", "      image: python:3.14.7\n"),
            ("      image: 'alpine:3.20'\n", "      image: 'alpine:3.24'\n")],
        "kserve/runtime.yaml": [("      image: python:3.11.16\n", "      image: python:3.14.7\n"),
                                ("    image: golang:1.20\n", "    image: golang:1.27\n")],
        "overlays/prod/kustomization.yaml": [
            ("    newName: postgres:16.4-bookworm\n", "    newName: postgres:18.6-bookworm\n"),
            ("        value: nginx:1.31.3-alpine\n", "        value: nginx:1.31.4-alpine\n"),
            ("                image: alpine:3.20\n", "                image: alpine:3.24\n")],
        "overlays/prod/patch-sidecar.yaml": [("          image: redis:7.2.5-alpine\n", "          image: redis:8.10.1-alpine\n")],
        "overlays/prod/add-sidecar.yaml": [("    image: nginx:1.31.3-alpine\n", "    image: nginx:1.31.4-alpine\n"),
                                           ('  value: "alpine:3.20"\n', '  value: "alpine:3.24"\n')],
        "spark/app.yaml": [('  image: "alpine:3.20"\n', '  image: "alpine:3.24"\n'),
                           ("  sidecarImage: redis:7.2.5-alpine\n", "  sidecarImage: redis:8.10.1-alpine\n")],
        "tekton/task.yaml": [("      image: golang:1.20\n", "      image: golang:1.27\n"),
                             ("      image: redis:7.2.5-alpine\n", "      image: redis:8.10.1-alpine\n")],
    }
    capsys.readouterr()
    assert main(["update"]) == 0
    assert {name: (repo / name).read_bytes() for name in after} == after  # a second run writes nothing
    assert "wrote" not in capsys.readouterr().err


def test_ci_files_of_every_new_kind_are_updated_exactly_and_once(tmp_path: Path, monkeypatch, tags_api: FakeTagsAPI,
                                                                  capsys):
    # Cloud Build's builders live at gcr.io, which is not on this machine.
    repo = fixture_on_the_recorded_day("ci", "rate_limit: 500\nmax_tag_pages: 100\nregistries: {gcr.io: {source: off}}\n",
                                       tmp_path, monkeypatch, tags_api)
    after, changes = updated(repo)
    node = ("node:22.23.2", "node:24.19.0")  # 22 is an LTS line: 24 that day, not 26
    assert changes == {
        ".azure-pipelines/release.yml": [("    container: alpine:3.20\n", "    container: alpine:3.24\n")],
        ".buildkite/pipeline.yml": [(f'          image: "{node[0]}"\n', f'          image: "{node[1]}"\n'),
                                    ("        image: python:3.11.16\n", "        image: python:3.14.7\n"),
                                    ("              image: postgres:16.4-bookworm\n",
                                     "              image: postgres:18.6-bookworm\n"),
                                    ("    image: redis:7.2.5-alpine\n", "    image: redis:8.10.1-alpine\n")],
        ".circleci/config.yml": [
            ("          - image: python:3.11.16  # an orb's inline executor\n",
             "          - image: python:3.14.7  # an orb's inline executor\n"),
            (f"      - image: {node[0]}\n", f"      - image: {node[1]}\n"),
            (f'      - image: "{node[0]}"\n', f'      - image: "{node[1]}"\n'),
            ("      - image: redis:7.2.5-alpine\n", "      - image: redis:8.10.1-alpine\n")],
        ".drone.yml": [("    image: golang:1.20\r\n", "    image: golang:1.27\r\n"),
                       ("    image: redis:7.2.5-alpine\r\n", "    image: redis:8.10.1-alpine\r\n"),
                       ("    image: alpine:3.20\r\n", "    image: alpine:3.24\r\n")],
        ".woodpecker/build.yaml": [("    image: golang:1.20\n", "    image: golang:1.27\n"),
                                   ('    image: "alpine:3.20"\n', '    image: "alpine:3.24"\n'),
                                   ("    image: postgres:16.4-bookworm\n", "    image: postgres:18.6-bookworm\n")],
        "azure-pipelines.yml": [("      image: postgres:16.4-bookworm\n", "      image: postgres:18.6-bookworm\n"),
                                ('      image: "python:3.11.16"\n', '      image: "python:3.14.7"\n'),
                                ("      cache: redis:7.2.5-alpine\n", "      cache: redis:8.10.1-alpine\n"),
                                (f"      image: {node[0]}\n", f"      image: {node[1]}\n")],
        "bitbucket-pipelines.yml": [("  name: python:3.11.16\n", "  name: python:3.14.7\n"),
                                    ("      image: postgres:16.4-bookworm\n", "      image: postgres:18.6-bookworm\n"),
                                    ("        name: redis:7.2.5-alpine\n", "        name: redis:8.10.1-alpine\n"),
                                    (f"        image: {node[0]}\n", f"        image: {node[1]}\n"),
                                    ("          - pipe: docker://alpine:3.20\n", "          - pipe: docker://alpine:3.24\n")],
        "cloudbuild.yaml": [(f"  - name: {node[0]}\n", f"  - name: {node[1]}\n")],
        "Jenkinsfile": [(f"    docker {{ image '{node[0]}' }}\n", f"    docker {{ image '{node[1]}' }}\n"),
                        ('      agent { docker "python:3.11.16" }\n', '      agent { docker "python:3.14.7" }\n'),
                        ("          docker.image('postgres:16.4-bookworm').withRun('-e POSTGRES_PASSWORD=x') { c ->\n",
                         "          docker.image('postgres:18.6-bookworm').withRun('-e POSTGRES_PASSWORD=x') { c ->\n")],
    }
    capsys.readouterr()
    assert main(["update"]) == 0
    assert {name: (repo / name).read_bytes() for name in after} == after  # a second run writes nothing


INFRA_CONFIG = """rate_limit: 500
max_tag_pages: 100
registries: {quay.io: {source: off}}
patterns:
  - files: ["scripts/*.sh"]
    match: '(?P<image>[\\w./-]+):(?P<tag>[\\w.-]+) # image'
"""


def test_infrastructure_files_annotations_and_patterns_are_updated_exactly_and_once(
        tmp_path: Path, monkeypatch, tags_api: FakeTagsAPI, capsys):
    repo = fixture_on_the_recorded_day("infra", INFRA_CONFIG, tmp_path, monkeypatch, tags_api)
    after, changes = updated(repo)
    node = ("node:22.23.2", "node:24.19.0")  # 22 is an LTS line: 24 that day, not 26
    assert changes == {
        "Makefile": [(f"NODE_IMAGE ?= {node[0]}\n", f"NODE_IMAGE ?= {node[1]}\n"),
                     ("PG_VERSION := 16.4-bookworm\n", "PG_VERSION := 18.6-bookworm\n")],
        "README.md": [("    docker run -d -p 6379:6379 redis:7.2.5-alpine\n",
                       "    docker run -d -p 6379:6379 redis:8.10.1-alpine\n")],  # the unannotated nginx stays
        "scripts/deploy.sh": [("docker pull alpine:3.20 # image\n", "docker pull alpine:3.24 # image\n"),
                              ("docker run --rm python:3.11.16 # image\n", "docker run --rm python:3.14.7 # image\n")],
        "quadlet/web.container": [(f"Image=docker.io/library/{node[0]}\r\n", f"Image=docker.io/library/{node[1]}\r\n")],
        "quadlet/db.image": [("Image=postgres:16.4-bookworm\n", "Image=postgres:18.6-bookworm\n")],
        "terraform/main.tf": [
            ('  default = "redis:7.2.5-alpine"\n', '  default = "redis:8.10.1-alpine"\n'),
            ('  name         = "nginx:1.26.3" # the proxy\n', '  name         = "nginx:1.31.4" # the proxy\n'),
            ('          image = "python:3.11.16"\n', '          image = "python:3.14.7"\n'),
            (f'          image = "{node[0]}"\n', f'          image = "{node[1]}"\n'),
            ('      image = "alpine:3.20"\n', '      image = "alpine:3.24"\n')],
        "terraform/jobs.tf": [
            ('            image = "redis:7.2.5-alpine"\n', '            image = "redis:8.10.1-alpine"\n'),
            ('  {"name": "legacy", "image": "postgres:16.4-bookworm", "essential": true}\n',
             '  {"name": "legacy", "image": "postgres:18.6-bookworm", "essential": true}\n')],
        "nomad/web.nomad.hcl": [(f'  default = "{node[0]}"\n', f'  default = "{node[1]}"\n'),
                                ('        image = "docker.io/library/nginx:1.26.3"\n',
                                 '        image = "docker.io/library/nginx:1.31.4"\n')],
        "ansible/site.yml": [('        tag: "1.26.3"\n', '        tag: "1.31.4"\n'),
                             (f'        image: "{node[0]}"\n', f'        image: "{node[1]}"\n'),
                             ("            image: docker.io/library/postgres:16.4-bookworm\n",
                              "            image: docker.io/library/postgres:18.6-bookworm\n"),
                             ("          docker_container: name=cache image=redis:7.2.5-alpine restart_policy=always\n",
                              "          docker_container: name=cache image=redis:8.10.1-alpine restart_policy=always\n")],
        "ansible/roles/cache/tasks/main.yml": [("    name: redis:7.2.5-alpine\n", "    name: redis:8.10.1-alpine\n"),
                                               ("    tag: 3.11.16\n", "    tag: 3.14.7\n")],
    }
    capsys.readouterr()
    assert main(["update"]) == 0
    assert {name: (repo / name).read_bytes() for name in after} == after  # a second run writes nothing
    assert "wrote" not in capsys.readouterr().err
