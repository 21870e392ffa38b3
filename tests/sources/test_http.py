from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagbot.errors import SourceUnavailable
from tagbot.sources.http import Calls, RateLimiter, _retry_after
from tests.helpers import FakeClock


def test_requests_are_spaced_by_the_rate():
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        limiter.wait()
    # No time passes between calls here, so each waits half a second more than the last.
    assert clock.slept == [0.5, 1.0, 1.5]


def test_a_pause_delays_everyone():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.wait()
    limiter.pause(5)
    limiter.wait()
    assert clock.slept == [5.0]


def test_time_passing_needs_no_wait():
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock, sleep=clock.sleep)
    limiter.wait()
    clock.now += 10
    limiter.wait()
    assert clock.slept == []


def test_the_limiter_holds_across_threads():
    clock = FakeClock()
    limiter = RateLimiter(4, clock=clock, sleep=clock.sleep)
    threads = [threading.Thread(target=limiter.wait) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(clock.slept) == [0.25 * n for n in range(1, 8)]


def test_the_call_budget():
    calls = Calls(budget=2)
    calls.take()
    calls.take()
    with pytest.raises(SourceUnavailable, match=r"max_calls \(2\) reached"):
        calls.take()
    assert calls.network == 2


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, 1.0), ("", 1.0), ("7", 7.0), ("2.5", 2.5), ("-3", 0.0), ("soon", 1.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after(header, seconds):
    assert _retry_after(header) == seconds


# --- issue 20: runs that end, and hosts that are let go ----------------------------------------

class Paged:
    """A Docker Hub stand-in answering pages with the `next` links and quota headers a test draws."""

    def __init__(self, pages: list[tuple[object, str | None, str | None]]) -> None:
        self.pages, self.paths = pages, []

    def handler(self, *args: object):
        import json
        from http.server import BaseHTTPRequestHandler

        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.paths.append(self.path)
                index = len(server.paths) - 1
                link, remaining, reset = server.pages[index] if index < len(server.pages) else (None, None, None)
                base = f"http://{self.headers['host']}/v2/repositories/library/nginx/tags"
                link = {"SAME": f"{base}?page={index + 2}", "REPEAT": f"{base}?page=1"}.get(link, link) \
                    if isinstance(link, str) else link
                body = json.dumps({"results": [{"name": f"1.{index}.0"}], "next": link}).encode()
                self.send_response(200)
                for name, value in (("x-ratelimit-remaining", remaining), ("x-ratelimit-reset", reset)):
                    if value is not None:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler(*args)


def test_a_quota_that_will_not_recover_soon_is_that_sources_failure():
    from tagbot.errors import RateLimited
    from tagbot.refs import parse_ref
    from tagbot.sources.hub import DockerHub
    from tests.helpers import loopback_fetcher
    from tests.loopback import serve

    import time as wall

    spent = Paged([("SAME", "0", str(int(wall.time()) + 60))] * 10)  # every page: quota spent for a minute
    clock = FakeClock()
    with serve(spent.handler) as url:
        fetcher, calls = loopback_fetcher(clock=clock)
        hub = DockerHub(fetcher, base_url=url, max_pages=10)
        with pytest.raises(RateLimited, match=r"quota is spent until \d\d:\d\d UTC; not asked again this run"):
            list(hub.pages(parse_ref("nginx")))  # 10 pages waited a minute each before
        with pytest.raises(RateLimited, match="quota is spent"):
            hub.list_tags(parse_ref("redis"))
    assert len(spent.paths) == 1 and calls.network == 1
    assert not [s for s in clock.slept if s > 1]  # no minute-long pause for a quota that is gone


def test_a_host_that_refuses_opens_the_circuit_for_the_rest_of_the_run():
    from tagbot.refs import parse_ref
    from tagbot.sources.tagsapi import TagsAPI
    from tests.helpers import loopback_fetcher
    from tests.loopback import closed_port_url

    fetcher, calls = loopback_fetcher(retries=3)
    api = TagsAPI(fetcher, base_url=closed_port_url(), key="k")
    messages = set()
    for name in ("a/one", "a/two", "a/three", "a/four", "a/five", "a/six", "a/seven"):
        with pytest.raises(SourceUnavailable) as raised:
            api.list_tags(parse_ref(name))
        messages.add(str(raised.value))
    assert calls.network == 3  # 28 requests before: 4 attempts for each of 7 images
    assert any("not tried again this run" in m for m in messages)
    assert raised.value.shared  # a failure of the host, said once for all its images


def test_the_lookup_deadline_ends_the_lookups_not_the_run():
    from tagbot.refs import parse_ref
    from tagbot.sources.tagsapi import TagsAPI
    from tests.fakeapi import FakeTagsAPI, serving
    from tests.helpers import FIXTURES, loopback_fetcher

    clock = FakeClock()
    with serving(FakeTagsAPI(FIXTURES / "api")) as fake:
        real = fake.answer

        def slow(*args):
            clock.now += 100  # each answer takes 100 s of the run's time
            return real(*args)

        fake.answer = slow
        fetcher, calls = loopback_fetcher(clock=clock)
        fetcher.deadline, fetcher.deadline_setting = clock.now + 600, "lookup_deadline (10m)"
        api = TagsAPI(fetcher, base_url=fake.url, key=fake.key)
        answered = 0
        for _ in range(10):
            try:
                api.list_tags(parse_ref("acme/tiny"))
                answered += 1
            except SourceUnavailable as e:
                assert "lookup_deadline (10m) passed; not looked up" in str(e)
    assert answered == 6 and calls.network == 6


LINKS = st.one_of(st.none(), st.sampled_from(["SAME", "REPEAT", "http://127.0.0.1:1/x", "https://127.0.0.1/x",
                                              "http://localhost/x", "ftp://x", "", 7]))
QUOTAS = st.tuples(st.sampled_from([None, "0", "5", "junk"]), st.sampled_from([None, "0", "3", "59", "9999999999", "x", "nan"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(LINKS, QUOTAS), min_size=1, max_size=12))
def test_any_pagination_and_quota_is_bounded(pages: list):
    from tagbot.errors import SourceError
    from tagbot.refs import parse_ref
    from tagbot.sources.http import MAX_QUOTA_WAIT
    from tagbot.sources.hub import DockerHub
    from tests.helpers import loopback_fetcher
    from tests.loopback import serve

    server = Paged([(link, remaining, reset) for link, (remaining, reset) in pages])
    clock = FakeClock()
    with serve(server.handler) as url:
        fetcher, calls = loopback_fetcher(clock=clock)
        try:
            DockerHub(fetcher, base_url=url, max_pages=6).list_tags(parse_ref("nginx"))
        except SourceError:
            pass
    assert calls.network == len(server.paths) <= 6  # never past the page bound; every request came here
    assert all(wait <= MAX_QUOTA_WAIT for wait in clock.slept)  # no pause longer than a spent quota allows
