from __future__ import annotations


import pytest

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
    tags = source.list_tags(parse_ref("nginx:1.27"))
    assert len(tags.tags) == 1297 and tags.complete is True
    assert calls.network == 13
    assert hub.requests[0] == "/v2/repositories/library/nginx/tags?ordering=last_updated&page_size=100"
    assert hub.requests[1] == "/v2/repositories/library/nginx/tags?ordering=last_updated&page=2&page_size=100"


def test_max_pages_bounds_the_calls_and_says_the_list_is_partial(hub: FakeHub):
    source, calls = hub_source(hub.url, max_pages=3)
    tags = source.list_tags(parse_ref("nginx"))
    assert (len(tags.tags), tags.complete, calls.network) == (300, False, 3)


def test_tags_are_read_exactly(hub: FakeHub):
    source, _ = hub_source(hub.url)
    tags = source.list_tags(parse_ref("acme/tiny"))
    assert tags.complete and [t.name for t in tags.tags] == ["1.2.1", "1.2.0", "1.1.0", "latest"]
    assert tags.tags[0] == TINY_NEWEST


def test_unknown_image_is_not_found(hub: FakeHub):
    source, _ = hub_source(hub.url)
    with pytest.raises(NotFound):
        source.list_tags(parse_ref("acme/nothing"))


def test_a_next_page_on_another_host_is_refused(hub: FakeHub, monkeypatch: pytest.MonkeyPatch):
    real = hub.answer

    def elsewhere(path, query):
        status, body = real(path, query)
        body["next"] = "https://elsewhere.example/v2/page2"
        return status, body

    monkeypatch.setattr(hub, "answer", elsewhere)
    source, calls = hub_source(hub.url)
    with pytest.raises(BadResponse, match="next page points to another host"):
        source.list_tags(parse_ref("nginx"))
    assert calls.network == 1


def test_an_answer_without_results_is_refused(hub: FakeHub, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(hub, "answer", lambda path, query: (200, {"count": 0}))
    source, _ = hub_source(hub.url)
    with pytest.raises(BadResponse, match="without a results list"):
        source.list_tags(parse_ref("nginx"))
