from __future__ import annotations


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagbot.errors import BadResponse, NotFound
from tagbot.refs import parse_ref
from tagbot.sources.http import Calls
from tagbot.sources.hub import DockerHub
from tests.fakehub import FakeHub
from tests.helpers import TINY_NEWEST, loopback_fetcher


def hub_source(url: str, max_pages: int = 10) -> tuple[DockerHub, Calls]:
    fetcher, calls = loopback_fetcher()
    return DockerHub(fetcher, base_url=url, max_pages=max_pages), calls


def test_every_page_is_read_up_to_the_bound(hub: FakeHub):
    source, calls = hub_source(hub.url, max_pages=20)
    pages = list(source.pages(parse_ref("nginx:1.27")))
    assert sum(len(p.tags) for p in pages) == 1297 and pages[-1].last and pages[-1].total == 1297
    assert calls.network == 13
    assert hub.requests[0] == "/v2/repositories/library/nginx/tags?ordering=last_updated&page_size=100"
    assert hub.requests[1] == "/v2/repositories/library/nginx/tags?ordering=last_updated&page=2&page_size=100"


def test_max_pages_bounds_the_calls(hub: FakeHub):
    source, calls = hub_source(hub.url, max_pages=3)
    pages = list(source.pages(parse_ref("nginx")))
    assert ([p.number for p in pages], pages[-1].last, calls.network) == ([1, 2, 3], False, 3)


def test_a_walk_starts_at_the_page_asked(hub: FakeHub):
    source, calls = hub_source(hub.url, max_pages=3)
    pages = list(source.pages(parse_ref("nginx"), name="-alpine", start=7, limit=5))
    assert [p.number for p in pages] == [7, 8]  # 712 -alpine tags: 8 pages
    assert pages[-1].last and len(pages[-1].tags) == 12 and all("-alpine" in t.name for p in pages for t in p.tags)
    assert hub.requests[0] == "/v2/repositories/library/nginx/tags?name=-alpine&ordering=last_updated&page=7&page_size=100"


def test_as_a_source_it_answers_the_newest_page_as_the_tags_api_would(hub: FakeHub):
    source, calls = hub_source(hub.url, max_pages=20)
    tags = source.list_tags(parse_ref("nginx"))
    assert (len(tags.tags), tags.complete, calls.network) == (100, False, 1)  # the walks read the rest, once


def test_tags_are_read_exactly(hub: FakeHub):
    source, _ = hub_source(hub.url)
    tags = source.list_tags(parse_ref("acme/tiny"))
    assert tags.complete and [t.name for t in tags.tags] == ["1.2.1", "1.2.0", "1.1.0", "latest"]
    assert tags.tags[0] == TINY_NEWEST


def test_unknown_image_is_not_found(hub: FakeHub):
    source, _ = hub_source(hub.url)
    with pytest.raises(NotFound):
        source.list_tags(parse_ref("acme/nothing"))


def next_page_at(hub: FakeHub, monkeypatch: pytest.MonkeyPatch, link: str) -> None:
    """Every page the fake Docker Hub answers points its `next` to `link`."""
    real = hub.answer

    def moved(path, query):
        status, body = real(path, query)
        body["next"] = link
        return status, body

    monkeypatch.setattr(hub, "answer", moved)


def test_a_next_page_on_another_host_is_refused(hub: FakeHub, monkeypatch: pytest.MonkeyPatch):
    next_page_at(hub, monkeypatch, "https://elsewhere.example/v2/page2")
    source, calls = hub_source(hub.url)
    with pytest.raises(BadResponse, match="next page points to another origin"):
        source.list_tags(parse_ref("nginx"))
    assert calls.network == 1


def test_an_answer_without_results_is_refused(hub: FakeHub, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(hub, "answer", lambda path, query: (200, {"count": 0}))
    source, _ = hub_source(hub.url)
    with pytest.raises(BadResponse, match="without a results list"):
        source.list_tags(parse_ref("nginx"))


# --- issue 20: pagination that goes only where it should ----------------------------------------

@pytest.mark.parametrize("elsewhere", ["{port}", "{scheme}"])
def test_a_next_page_on_another_port_or_scheme_is_refused(hub: FakeHub, monkeypatch: pytest.MonkeyPatch, elsewhere: str):
    from tests.loopback import closed_port_url

    other_port = closed_port_url() + "/v2/repositories/library/nginx/tags?page=2"
    other_scheme = hub.url.replace("http://", "https://") + "/v2/repositories/library/nginx/tags?page=2"
    next_page_at(hub, monkeypatch, other_port if elsewhere == "{port}" else other_scheme)
    source, calls = hub_source(hub.url)
    with pytest.raises(BadResponse, match="next page points to another origin"):
        source.list_tags(parse_ref("nginx"))
    assert calls.network == 1


NEXTS = st.one_of(st.none(), st.just("SAME"), st.just("REPEAT"), st.sampled_from([
    "http://127.0.0.1:1/x", "https://127.0.0.1/x", "http://localhost/x", "ftp://x", "//127.0.0.1/x", "", 7]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(NEXTS, min_size=1, max_size=15), st.integers(min_value=0, max_value=3))
def test_any_pagination_is_bounded_and_stays_on_its_origin(hub: FakeHub, nexts: list, quota: int):
    from urllib.parse import urlsplit

    real = hub.answer
    seen: list[str] = []

    def paged(path, query):
        status, body = real("/v2/repositories/library/nginx/tags", {"page": query.get("page", "1"), "page_size": "100"})
        index = len(seen)
        seen.append(path)
        choice = nexts[index] if index < len(nexts) else None
        body["next"] = {"SAME": f"{hub.url}{path}?page={index + 2}", "REPEAT": f"{hub.url}{path}?page=1"}.get(choice, choice) \
            if isinstance(choice, str) else choice
        return status, body

    hub.answer = paged
    try:
        source, calls = hub_source(hub.url, max_pages=5)
        try:
            source.list_tags(parse_ref("nginx"))
        except BadResponse:
            pass
    finally:
        hub.answer = real
    assert calls.network <= 5  # never past the page bound, whatever the links say
    assert all(urlsplit(p).netloc == "" for p in seen)  # every request reached this server alone
