"""Each source at its own pace: the tags API plan's rate_limit never slows Docker Hub or a
registry, each registry can be given its own, and a spent quota is waited out, not hammered."""

from __future__ import annotations

import shutil
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from tagbot.run import LookupOptions, open_services, plan
from tagbot.sources import select
from tagbot.sources.http import Calls, Fetcher, RateLimiter
from tests.fakeapi import FakeTagsAPI
from tests.helpers import FIXTURES, FakeClock, paced
from tests.loopback import serve


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI) -> Path:
    shutil.copytree(FIXTURES / "repos" / "app", tmp_path / "repo")
    monkeypatch.setenv("OANOR_API_KEY", tags_api.key)
    monkeypatch.setenv("TAGBOT_API_URL", tags_api.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "repo"


def run_with(repo: Path, config: str, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeClock, Calls]:
    monkeypatch.setattr(select, "DEFAULT_HUB_RATE", 5.0)  # the real defaults, on a fake clock
    (repo / "tagbot.yaml").write_text(config)
    clock = FakeClock()
    with open_services(LookupOptions(no_cache=True), directory=repo, monotonic=clock, sleep=clock.sleep) as services:
        plan([repo], services=services, base=repo)
    return clock, services.calls


def test_docker_hub_keeps_its_own_pace_beside_the_tags_api(repo: Path, tags_api: FakeTagsAPI, hub, monkeypatch):
    clock, calls = run_with(repo, "registries: {ghcr.io: {source: off}}\nrate_limit: 2\n", monkeypatch)
    tags_api_waits = paced(calls.by_source["tagsapi"], rate=2)
    hub_waits = paced(calls.by_source["hub"], rate=5)
    assert calls.by_source["hub"] > 1
    assert sorted(clock.slept) == sorted(tags_api_waits + hub_waits)
    assert calls.waited["hub"] == pytest.approx(max(hub_waits))


def test_a_registry_can_be_given_a_pace_of_its_own(repo: Path, monkeypatch):
    config = "registries: {ghcr.io: {source: off}, docker.io: {rate_limit: 10}}\nrate_limit: 1\n"
    clock, calls = run_with(repo, config, monkeypatch)
    assert calls.waited["hub"] == pytest.approx(max(paced(calls.by_source["hub"], rate=10)))
    assert calls.waited["tagsapi"] == pytest.approx(max(paced(calls.by_source["tagsapi"], rate=1)))


def test_a_spent_quota_is_waited_out():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("RateLimit-Remaining", "0")
            self.send_header("RateLimit-Reset", "7")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    clock = FakeClock()
    limiter = RateLimiter(1000, clock=clock, sleep=clock.sleep)
    fetcher = Fetcher(httpx.Client(), limiter=limiter, calls=Calls())
    with serve(Handler) as url:
        fetcher.get_json(url, auth_hint="")
        fetcher.get_json(url, auth_hint="")
    assert clock.slept == [7.0]  # the second request waited for the reset


def test_the_summary_names_the_source_whose_pace_the_run_waited_on():
    from tagbot.report import calls_summary

    calls = Calls()
    calls.take("tagsapi")
    calls.take("hub")
    calls.count_wait("tagsapi", 10.5)
    calls.count_wait("tagsapi", 3.0)
    calls.count_wait("hub", 0.4)
    assert calls_summary(calls) == ("2 API calls, 0 from cache, 1 of them Docker Hub request; "
                                    "waited 10.5 s on the tags API's pace")
