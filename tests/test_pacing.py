"""Each source at its own pace: the tags API plan's rate_limit never slows Docker Hub or a
registry, each registry can be given its own, and a spent quota is waited out, not hammered."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from tagbot.run import LookupOptions, open_services, plan
from tagbot.sources import select
from tagbot.sources.http import Calls, Fetcher, InFlightLimiter, RateLimiter
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
    handler, _ = _answering(lambda n: (200, {"RateLimit-Remaining": "0", "RateLimit-Reset": "7"}))
    clock = FakeClock()
    limiter = RateLimiter(1000, clock=clock, sleep=clock.sleep)
    fetcher = Fetcher(httpx.Client(), limiter=limiter, calls=Calls())
    with serve(handler) as url:
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


# --- registries: requests in flight, not a per-second guess ------------------------------------

def _answering(status_for: Callable[[int], tuple[int, dict[str, str]]], delay: float = 0.0) -> tuple[type, dict]:
    """A handler whose n-th request (from 0) gets `status_for(n)`; it records the most requests
    it ever held at once."""
    seen = {"count": 0, "in_flight": 0, "most": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            with lock:
                n = seen["count"]
                seen["count"] += 1
                seen["in_flight"] += 1
                seen["most"] = max(seen["most"], seen["in_flight"])
            time.sleep(delay)
            status, headers = status_for(n)
            with lock:
                seen["in_flight"] -= 1
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler, seen


def test_the_in_flight_cap_holds_under_32_workers():
    handler, seen = _answering(lambda n: (200, {}), delay=0.02)
    limiter = InFlightLimiter(8)
    fetcher = Fetcher(httpx.Client(), limiter=limiter, calls=Calls())
    with serve(handler) as url, ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(lambda i: fetcher.get_json(f"{url}/{i}", auth_hint=""), range(96)))
    assert seen["count"] == 96
    assert 2 <= seen["most"] <= 8  # side by side, and never more than the cap
    assert limiter._in_flight == 0


def test_a_429_halves_the_cap_waits_its_retry_after_and_answers_give_the_cap_back():
    handler, seen = _answering(lambda n: (429, {"Retry-After": "3"}) if n == 0 else (200, {}))
    clock = FakeClock()
    limiter = InFlightLimiter(8, clock=clock, sleep=clock.sleep)
    fetcher = Fetcher(httpx.Client(), limiter=limiter, calls=Calls(), sleep=lambda s: None, jitter=lambda: 0.0)
    with serve(handler) as url:
        fetcher.get_json(url, auth_hint="")
        assert (limiter.limit, clock.slept) == (4, [3.0])  # halved, and the next request waited
        for _ in range(4):
            fetcher.get_json(url, auth_hint="")
    assert limiter.limit == 5  # additive increase: a place back after `limit` clean answers
    assert seen["count"] == 6


def test_a_registrys_ratelimit_headers_space_the_requests_by_its_own_numbers():
    # 4 requests left in the next 2 seconds: one each half second.
    handler, _ = _answering(lambda n: (200, {"RateLimit-Remaining": "4", "RateLimit-Reset": "2"}))
    clock = FakeClock()
    limiter = InFlightLimiter(8, clock=clock, sleep=clock.sleep)
    fetcher = Fetcher(httpx.Client(), limiter=limiter, calls=Calls())
    with serve(handler) as url:
        fetcher.get_json(url, auth_hint="")
        fetcher.get_json(url, auth_hint="")
    assert clock.slept == [0.5]


def test_a_window_of_hours_is_no_pace_and_docker_hubs_spent_pulls_are_read_as_spent():
    handler, _ = _answering(lambda n: (200, {"RateLimit-Remaining": "90;w=21600", "RateLimit-Reset": "21000"})
                            if n == 0 else (200, {"X-RateLimit-Remaining": "0;w=21600", "X-RateLimit-Reset": "5"}))
    clock = FakeClock()
    limiter = InFlightLimiter(8, clock=clock, sleep=clock.sleep)
    fetcher = Fetcher(httpx.Client(), limiter=limiter, calls=Calls())
    with serve(handler) as url:
        for _ in range(3):
            fetcher.get_json(url, auth_hint="")
    assert clock.slept == [5.0]  # no spacing from the 6-hour window; the spent quota waited out


def test_rate_limit_is_a_ceiling_on_a_registry():
    handler, _ = _answering(lambda n: (200, {}))
    clock = FakeClock()
    limiter = InFlightLimiter(8, rate=4, clock=clock, sleep=clock.sleep)
    fetcher = Fetcher(httpx.Client(), limiter=limiter, calls=Calls())
    with serve(handler) as url:
        for _ in range(3):
            fetcher.get_json(url, auth_hint="")
    assert clock.slept == paced(3, rate=4)
