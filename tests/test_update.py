"""End to end: `tagbot update`, `check` and `explain` on a sample repository against the fake
tags API on loopback, through `main()` as a user runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tagbot.cli import main
from tests.loopback import closed_port_url
from tests.fakeapi import FakeTagsAPI
from tests.fakehub import FakeHub
from tagbot.run import LookupOptions, open_services, plan
from tests.helpers import FakeClock, fixture_repository, load_tags, paced

OLD = "sha256:" + "0" * 64
NGINX_1_31_4_ALPINE = next(t.digest for t in load_tags("library/nginx") if t.name == "1.31.4-alpine")
# ghcr.io is off: no test may leave this machine. The default 2 requests/s is tested once, below.
# The Docker Hub fill is off here: these tests are about what the newest 100 give; the fill has
# tests of its own (tests/test_fill.py).
OFF = "registries: {ghcr.io: {source: off}}\ndeep_search: false\n"
FAST = OFF + "rate_limit: 200\n"
UNIQUE_HUB_IMAGES = 7  # node, python, acme/tiny, alpine, nginx, postgres, redis
# What the tags API's /v1/image says (is it deprecated?), asked once a week for each image that
# is not an official one (their deprecations ship with tagbot): here acme/tiny.
IMAGE_FACTS = 1
FIRST_RUN_CALLS = UNIQUE_HUB_IMAGES + IMAGE_FACTS


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI) -> Path:
    repo = fixture_repository("app", tmp_path, monkeypatch, tags_api.url)
    (repo / "tagbot.yaml").write_text(FAST)
    return repo


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["update", "--dry-run", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_dry_run_json(repo: Path, tags_api: FakeTagsAPI, capsys: pytest.CaptureFixture[str]):
    before = {p.name: p.read_bytes() for p in repo.iterdir()}
    code, out = run_json(capsys)
    assert code == 0
    assert code == 0
    assert [(u["file"], u["line"], u["image"], u["to"]["tag"], u["update_type"]) for u in out["updates"]] == [
        ("Dockerfile", 9, "acme/tiny:1.1.0", "1.2.1", "minor"),
        ("Dockerfile", 10, "alpine:3.19", "3.24", "minor"),
        ("Dockerfile", 12, f"nginx:1.31.3-alpine@{OLD}", "1.31.4-alpine", "patch"),
        ("compose.yaml", 2, "postgres:16.4-bookworm", "18.6-bookworm", "major"),
        ("compose.yaml", 11, "redis:7.2.5-alpine", "8.10.1-alpine", "major"),
        ("compose.yaml", 13, "acme/tiny:1.1.0", "1.2.1", "minor"),
    ]
    tiny = out["updates"][0]
    assert tiny == {
        "file": "Dockerfile",
        "line": 9,
        "column": 13,
        "image": "acme/tiny:1.1.0",
        "repository": "docker.io/acme/tiny",
        "from": {"tag": "1.1.0", "digest": None},
        "to": {"tag": "1.2.1", "digest": None},
        "update_type": "minor",
        "platforms": ["linux/amd64", "linux/arm64"],
        "platforms_dropped": [],
        "size": 1200,
        "last_updated": "2026-08-10T10:00:00+00:00",
        "reason": "1.1.0 -> 1.2.1 (minor)",
    }
    nginx = out["updates"][2]
    assert nginx["from"] == {"tag": "1.31.3-alpine", "digest": OLD}
    assert nginx["to"]["digest"] == NGINX_1_31_4_ALPINE
    assert {"file": "compose.yaml", "line": 18, "image": "ghcr.io/acme/sidecar:1.0",
            "reason": "lookups are off for ghcr.io (registries: in the config)"} in out["held_back"]
    assert {"file": "Dockerfile", "line": 1, "image": "node:20.10.0-alpine3.18",
            "reason": "20.10.0-alpine3.18 is not among the newest 100 tags; only those were searched"} in out["held_back"]
    assert out["errors"] == []
    assert out["calls"] == {"api": FIRST_RUN_CALLS, "cached": 0, "docker_hub": 0}
    # One per unique image, however often it is used, and acme/tiny's facts.
    assert sorted(tags_api.calls)[0] == "/v1/image?name=acme/tiny" and len(tags_api.calls) == FIRST_RUN_CALLS
    assert {p.name: p.read_bytes() for p in repo.iterdir()} == before  # a dry run writes nothing


def test_a_cached_rerun_spends_no_call(repo: Path, tags_api: FakeTagsAPI, capsys: pytest.CaptureFixture[str]):
    _, first = run_json(capsys)
    _, second = run_json(capsys)
    assert second["calls"] == {"api": 0, "cached": UNIQUE_HUB_IMAGES, "docker_hub": 0}
    assert second["updates"] == first["updates"]
    assert len(tags_api.calls) == FIRST_RUN_CALLS  # the facts too are kept (for a week)
    _, third = run_json(capsys, "--no-cache")
    assert third["calls"] == {"api": FIRST_RUN_CALLS, "cached": 0, "docker_hub": 0}


def test_update_writes_only_the_values_and_a_second_run_changes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]):
    dockerfile, compose = (repo / "Dockerfile").read_text(), (repo / "compose.yaml").read_text()
    assert main(["update"]) == 0
    assert "tagbot: wrote 2 files" in capsys.readouterr().err
    assert (repo / "Dockerfile").read_text() == dockerfile.replace("acme/tiny:1.1.0", "acme/tiny:1.2.1").replace(
        "alpine:3.19", "alpine:3.24").replace(f"nginx:1.31.3-alpine@{OLD}", f"nginx:1.31.4-alpine@{NGINX_1_31_4_ALPINE}")
    assert (repo / "compose.yaml").read_text() == compose.replace("postgres:16.4-bookworm", "postgres:18.6-bookworm").replace(
        "redis:7.2.5-alpine", "redis:8.10.1-alpine").replace("acme/tiny:1.1.0", "acme/tiny:1.2.1")
    written = {p.name: p.read_bytes() for p in repo.iterdir()}
    assert main(["update"]) == 0
    assert {p.name: p.read_bytes() for p in repo.iterdir()} == written
    assert "everything is up to date" in capsys.readouterr().out


def test_diff_is_a_patch_of_the_files_as_they_would_be_written(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["update", "--dry-run", "--format", "diff"]) == 0
    diff = capsys.readouterr().out
    assert "--- a/compose.yaml\n+++ b/compose.yaml\n" in diff
    assert '-    image: "redis:7.2.5-alpine"   # session cache\n+    image: "redis:8.10.1-alpine"   # session cache\n' in diff
    assert "-  image: postgres:16.4-bookworm\n+  image: postgres:18.6-bookworm\n" in diff


def test_rules_from_the_config(repo: Path, capsys: pytest.CaptureFixture[str]):
    (repo / "tagbot.yaml").write_text(FAST + "rules:\n  - match: [postgres, redis]\n    update_types: [minor, patch]\n")
    _, out = run_json(capsys)
    kinds = {u["image"]: (u["to"]["tag"], u["update_type"]) for u in out["updates"]}
    assert kinds["postgres:16.4-bookworm"][1] == "minor" and kinds["redis:7.2.5-alpine"][1] == "minor"
    assert kinds["acme/tiny:1.1.0"] == ("1.2.1", "minor")


def test_a_bad_config_is_one_line_and_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]):
    (repo / "tagbot.yaml").write_text(FAST + "update_types: [minr]\n")
    assert main(["update", "--dry-run"]) == 2
    assert capsys.readouterr().err == (
        'tagbot.yaml:4: error: update_types: unknown value "minr" (known: major, minor, patch, digest, pin)\n'
    )


def test_check_exit_codes(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "Dockerfile:9:13: acme/tiny: 1.1.0 -> 1.2.1"
    assert "Dockerfile:12:6: nginx: 1.31.3-alpine@sha256:000000000000 -> 1.31.4-alpine@sha256:0af513f554b1" in captured.out
    assert "6 update(s) available" in captured.err
    assert main(["update"]) == 0
    assert main(["check"]) == 0


def test_a_failing_image_is_listed_and_the_rest_still_reported(repo: Path, tags_api: FakeTagsAPI,
                                                                capsys: pytest.CaptureFixture[str], monkeypatch):
    monkeypatch.setattr("tagbot.sources.http.BACKOFF", 0.01)  # the retries themselves are real
    tags_api.script["redis"] = ["500"] * 4
    code, out = run_json(capsys, "--no-cache")
    assert code == 2
    assert out["errors"] == [{"image": "docker.io/library/redis", "kind": "unavailable", "host": "127.0.0.1",
                              "message": "127.0.0.1: server error 500 after 4 attempts"}]
    assert len(out["updates"]) == 5
    tags_api.script["redis"] = ["500"] * 4
    assert main(["check", "--no-cache"]) == 2


def test_a_rejected_key_stops_with_one_line_that_never_shows_the_key(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("OANOR_API_KEY", "sk-live-very-secret")
    assert main(["update", "--dry-run", "--no-cache"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "tagbot: error: 127.0.0.1 rejected the request (401): check the API key in OANOR_API_KEY\n"
    assert "sk-live-very-secret" not in captured.out + captured.err


def test_no_key_with_the_tags_api_chosen_says_which_variable(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                             tags_api: FakeTagsAPI, capsys: pytest.CaptureFixture[str]):
    (repo / "tagbot.yaml").write_text("rate_limit: 200\nregistries: {docker.io: {source: tagsapi}, ghcr.io: {source: off}}\n")
    monkeypatch.delenv("OANOR_API_KEY")
    assert main(["check", "--no-cache"]) == 2
    assert "no API key: set OANOR_API_KEY" in capsys.readouterr().err
    assert tags_api.calls == []


def test_no_key_reads_docker_hub_itself(repo: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI,
                                        hub: FakeHub, capsys: pytest.CaptureFixture[str]):
    (repo / "tagbot.yaml").write_text(f"rate_limit: 200\nmax_tag_pages: 100\nregistries: {{docker.io: {{url: '{hub.url}'}}, ghcr.io: {{source: off}}}}\n")
    monkeypatch.delenv("OANOR_API_KEY")
    code, out = run_json(capsys, "--no-cache")
    assert code == 0 and tags_api.calls == []
    assert len({r.split("?")[0] for r in hub.requests}) == UNIQUE_HUB_IMAGES
    updates = {u["image"]: u["to"]["tag"] for u in out["updates"]}
    # The whole tag list: the tags older than the newest 100 are found, so node gets its update.
    assert updates["node:20.10.0-alpine3.18"] == "22.2.0-alpine3.18"
    assert not any("only those were searched" in h["reason"] for h in out["held_back"])


def test_offline_with_an_empty_cache_reports_every_image(repo: Path, tags_api: FakeTagsAPI,
                                                          capsys: pytest.CaptureFixture[str]):
    code, out = run_json(capsys, "--offline")
    assert code == 2
    assert len(out["errors"]) == UNIQUE_HUB_IMAGES
    assert tags_api.calls == []


def test_a_file_changed_during_the_run_is_left_untouched(repo: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch):
    import tagbot.cli
    from tagbot import run

    def edit_then_plan(*args, **kwargs):
        planned = run.plan(*args, **kwargs)
        (repo / "compose.yaml").write_text((repo / "compose.yaml").read_text().replace("redis:7.2.5", "redis:7.2.6"))
        return planned

    changed = (repo / "compose.yaml").read_text().replace("redis:7.2.5", "redis:7.2.6")
    monkeypatch.setattr(tagbot.cli, "plan", edit_then_plan)
    assert main(["update"]) == 2
    assert (repo / "compose.yaml").read_text() == changed  # untouched after the hand edit
    assert "acme/tiny:1.2.1" in (repo / "Dockerfile").read_text()  # the other file was written
    assert "tagbot: error: compose.yaml: the file changed since the scan; left as it is\n" in capsys.readouterr().err


def test_explain_walks_through_the_decision(repo: Path, capsys: pytest.CaptureFixture[str]):
    (repo / "tagbot.yaml").write_text(FAST + "rules:\n  - match: acme/*\n    ignore: ['1.2.1']\n")
    assert main(["explain", "acme/tiny:1.1.0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "acme/tiny:1.1.0 (docker.io/acme/tiny)"
    assert out[1] == "config: tagbot.yaml; matching rules: line 5"
    assert out[2] == "tags searched: 4 tags"
    assert out[3] == "platforms required: linux/amd64, linux/arm64"
    assert out[4] == "  from: default: amd64 and arm64 of the current tag 1.1.0"
    assert out[5] == "newer candidates: 2"  # acme/tiny has no other shapes
    assert out[6].split() == ["1.2.1", "ignore:", "matches", "ignore"]
    assert out[7].split() == ["1.2.0", "ok:", "a", "minor", "update"]
    assert out[8] == "decision: 1.1.0 -> 1.2.0 (minor)"
    assert out[9] == "held back: newer 1.2.1 matches ignore"


def test_explain_a_bad_reference(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["explain", "Nginx:1"]) == 2
    assert capsys.readouterr().err == "tagbot: error: invalid image reference 'Nginx:1': repository name 'Nginx' must be lowercase\n"


def test_the_default_rate_limit_holds(repo: Path, tags_api: FakeTagsAPI):
    (repo / "tagbot.yaml").write_text(OFF)  # the free plan's 2 requests/s
    clock = FakeClock()
    options = LookupOptions(no_cache=True)
    with open_services(options, directory=repo, monotonic=clock, sleep=clock.sleep) as services:
        planned = plan([repo], services=services, base=repo)
    assert len(planned.updates) == 6
    assert len(tags_api.calls) == FIRST_RUN_CALLS
    assert sorted(clock.slept) == paced(FIRST_RUN_CALLS, rate=2)


def test_the_api_url_comes_from_the_flag_then_the_environment_then_the_config(
    repo: Path, tags_api: FakeTagsAPI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    dead = closed_port_url()
    (repo / "tagbot.yaml").write_text(FAST + f"api_url: {tags_api.url}\n")
    monkeypatch.delenv("TAGBOT_API_URL")
    assert main(["check", "--no-cache"]) == 2  # a config may not send the key to another host
    assert "api_url: the tags API key goes only to api.oanor.com" in capsys.readouterr().err
    assert tags_api.calls == []
    monkeypatch.setenv("TAGBOT_API_URL", tags_api.url)
    assert main(["check", "--no-cache"]) == 1
    monkeypatch.setenv("TAGBOT_API_URL", dead)
    assert main(["check", "--no-cache", "--api-url", tags_api.url]) == 1


def test_max_calls_caps_the_run(repo: Path, tags_api: FakeTagsAPI, capsys: pytest.CaptureFixture[str]):
    (repo / "tagbot.yaml").write_text(FAST + "max_calls: 3\n")
    code, out = run_json(capsys, "--no-cache")
    assert code == 2
    assert len(tags_api.calls) == 3 and out["calls"]["api"] == 3
    assert sum("max_calls (3) reached" in e["message"] for e in out["errors"]) == UNIQUE_HUB_IMAGES - 3


def test_explain_all_lists_every_newer_candidate(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["explain", "nginx:1.31"]) == 0
    short = capsys.readouterr().out
    assert "of other shapes or variants not listed; --all lists them" in short
    assert "1.31.4-alpine" not in short
    assert main(["explain", "nginx:1.31", "--all"]) == 0
    full = capsys.readouterr().out
    assert "not listed" not in full
    assert any(line.split()[:2] == ["1.31.4-alpine", "shape:"] for line in full.splitlines())


def test_verbose_says_where_answers_came_from_and_no_secret(repo: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OANOR_API_KEY", "test-key")
    assert main(["update", "--dry-run", "--verbose"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"tagbot: DEBUG: docker.io/library/redis: \d+ tags from tagsapi http://127\.0\.0\.1:\d+", err)
    assert re.search(r"tagbot: DEBUG: GET 127\.0\.0\.1/v1/tags: 200", err)
    assert "test-key" not in err
    assert main(["update", "--dry-run"]) == 0
    assert "DEBUG" not in capsys.readouterr().err  # quiet by default; the second run reads the cache
    monkeypatch.setenv("TAGBOT_LOG", "debug")
    assert main(["update", "--dry-run"]) == 0
    assert "tagbot: DEBUG: docker.io/library/redis: from the store" in capsys.readouterr().err


def test_each_error_is_said_once_and_up_to_date_is_not_claimed(repo: Path, tags_api: FakeTagsAPI,
                                                               capsys: pytest.CaptureFixture[str], monkeypatch):
    monkeypatch.setattr("tagbot.sources.http.BACKOFF", 0.0)
    tags_api.script["redis"] = ["500"] * 4
    assert main(["update", "--dry-run", "--no-cache"]) == 2
    captured = capsys.readouterr()
    assert "error" not in captured.out  # the table is for updates; errors go to stderr, once
    assert captured.err.count("docker.io/library/redis") == 1
    monkeypatch.setenv("TAGBOT_API_URL", closed_port_url())
    assert main(["update", "--dry-run", "--no-cache"]) == 2
    out = capsys.readouterr().out
    assert "everything is up to date" not in out
    assert out.startswith(f"no updates among the images looked up; {UNIQUE_HUB_IMAGES} images could not be looked up\n")


# --- issue 20: runs that end -----------------------------------------------------------------------

def test_a_host_that_refuses_is_let_go_and_said_once(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr("tagbot.sources.http.BACKOFF", 0.0)
    monkeypatch.setenv("TAGBOT_API_URL", closed_port_url())
    assert main(["check", "--no-cache"]) == 2
    err = capsys.readouterr().err
    calls = int(re.search(r"; (\d+) API calls?", err).group(1))
    assert calls < UNIQUE_HUB_IMAGES  # 28 for 7 images before: 4 attempts each
    (line,) = [line for line in err.splitlines() if "not tried again this run" in line]
    assert f"({UNIQUE_HUB_IMAGES} images: " in line


def test_the_lookup_deadline_reports_what_it_left_and_the_job_goes_on(repo: Path, tags_api: FakeTagsAPI,
                                                                     monkeypatch: pytest.MonkeyPatch):
    (repo / "tagbot.yaml").write_text(FAST + "lookup_deadline: 5m\n")
    monkeypatch.setattr("tagbot.run.WORKERS", 1)  # one lookup at a time, so the count is exact
    clock = FakeClock()
    real = tags_api.answer

    def slow(*args):
        clock.now += 100  # each answer takes 100 s of the run's time
        return real(*args)

    tags_api.answer = slow
    with open_services(LookupOptions(no_cache=True), directory=repo, monotonic=clock, sleep=clock.sleep) as services:
        planned = plan([repo], services=services, base=repo)
    late = [f for f in planned.errors if "lookup_deadline (5m) passed; not looked up" in f.message]
    assert (len(tags_api.calls), len(late)) == (3, UNIQUE_HUB_IMAGES - 3)  # answered at 100, 200, 300 s; the rest reported
    assert planned.updates  # what was answered is still decided
