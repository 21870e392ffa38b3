from __future__ import annotations

import json
import socket

import pytest

from tagbot.errors import AuthError, BadResponse, NotFound, RateLimited, SourceUnavailable
from tagbot.refs import parse_ref
from tests.fakeapi import FakeTagsAPI
from tests.helpers import TINY_NEWEST, fixture, tags_source


def test_official_images_are_asked_by_bare_name(tags_api: FakeTagsAPI):
    source, calls = tags_source(tags_api.url)
    for written in ("nginx:1.27", "library/nginx", "docker.io/library/nginx@sha256:" + "a" * 64):
        tags = source.list_tags(parse_ref(written))
        assert len(tags.tags) == 100 and tags.complete is False
    assert tags_api.calls == ["/v1/tags?name=nginx&limit=100"] * 3
    assert calls.network == 3


def test_other_images_are_asked_by_namespace(tags_api: FakeTagsAPI):
    source, _ = tags_source(tags_api.url)
    source.list_tags(parse_ref("bitnami/postgresql:16"))
    assert tags_api.calls == ["/v1/tags?name=bitnami/postgresql&limit=100"]


def test_tags_are_read_exactly(tags_api: FakeTagsAPI):
    source, _ = tags_source(tags_api.url)
    tags = source.list_tags(parse_ref("acme/tiny"))
    assert tags.complete is True  # fewer than the limit: the whole list
    assert [t.name for t in tags.tags] == ["1.2.1", "1.2.0", "1.1.0", "latest"]
    assert tags.tags[0] == TINY_NEWEST


def test_rejected_key_is_auth_error_naming_the_variable_not_the_key(tags_api: FakeTagsAPI):
    source, _ = tags_source(tags_api.url, key="wrong-secret-key")
    with pytest.raises(AuthError, match=r"rejected the request \(401\): check the API key in OANOR_API_KEY") as raised:
        source.list_tags(parse_ref("redis:7"))
    assert "wrong-secret-key" not in str(raised.value)
    assert tags_api.calls == ["/v1/tags?name=redis&limit=100"]  # never retried


def test_missing_key_fails_before_any_call(tags_api: FakeTagsAPI):
    source, _ = tags_source(tags_api.url, key=None)
    with pytest.raises(AuthError, match="no API key: set OANOR_API_KEY"):
        source.list_tags(parse_ref("redis:7"))
    assert tags_api.calls == []


def test_unknown_image_is_not_found(tags_api: FakeTagsAPI):
    source, _ = tags_source(tags_api.url)
    with pytest.raises(NotFound, match="not found at 127.0.0.1"):
        source.list_tags(parse_ref("acme/nothing-here"))


def test_429_waits_for_retry_after_then_succeeds(tags_api: FakeTagsAPI):
    tags_api.script["redis"] = ["429:0", "429:0"]
    source, calls = tags_source(tags_api.url)
    assert len(source.list_tags(parse_ref("redis")).tags) == 100
    assert len(tags_api.calls) == 3 and calls.network == 3


def test_429_with_a_long_wait_is_reported_not_waited(tags_api: FakeTagsAPI):
    tags_api.script["redis"] = ["429:3600"]
    source, _ = tags_source(tags_api.url)
    with pytest.raises(RateLimited, match="asked to wait 3600 s") as raised:
        source.list_tags(parse_ref("redis"))
    assert raised.value.retry_after == 3600
    assert len(tags_api.calls) == 1


def test_server_errors_retry_with_backoff(tags_api: FakeTagsAPI):
    tags_api.script["redis"] = ["500", "502"]
    sleeps: list[float] = []
    source, _ = tags_source(tags_api.url, sleeps=sleeps)
    assert source.list_tags(parse_ref("redis")).tags
    assert sleeps == [0.5, 1.0]  # exponential; jitter is zero here
    assert len(tags_api.calls) == 3


def test_slow_answers_time_out_and_retry(tags_api: FakeTagsAPI):
    tags_api.script["redis"] = ["slow:1", "slow:1"]
    source, _ = tags_source(tags_api.url, timeout=0.2, retries=1)
    with pytest.raises(SourceUnavailable, match="timed out after 2 attempts"):
        source.list_tags(parse_ref("redis"))


def test_refused_connection_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    source, _ = tags_source(f"http://127.0.0.1:{port}", retries=1)
    with pytest.raises(SourceUnavailable, match="cannot connect"):
        source.list_tags(parse_ref("redis"))


@pytest.mark.parametrize(
    ("answers", "error", "message"),
    [
        (["malformed"], BadResponse, "answered with malformed JSON"),
        (["envelope"], BadResponse, "without its envelope"),
        (["418"], BadResponse, "unexpected HTTP 418"),
        (["403"], AuthError, r"\(403\)"),
        (["404"], NotFound, "not found at 127.0.0.1"),
        (["500"] * 4, SourceUnavailable, "server error 500 after 4 attempts"),
        (["429:0"] * 4, RateLimited, "rate limited by 127.0.0.1"),
    ],
)
def test_every_failure_maps_to_its_error(tags_api: FakeTagsAPI, answers, error, message):
    tags_api.script["redis"] = list(answers)
    source, _ = tags_source(tags_api.url)
    with pytest.raises(error, match=message):
        source.list_tags(parse_ref("redis"))
    assert len(tags_api.calls) == len(answers)


def test_wrong_field_types_name_the_field(tags_api: FakeTagsAPI):
    source, _ = tags_source(tags_api.url)
    with pytest.raises(BadResponse, match=r"data.tags\[0\].size is not a number"):
        source.list_tags(parse_ref("acme/broken"))


def test_call_budget(tags_api: FakeTagsAPI):
    source, calls = tags_source(tags_api.url, budget=1)
    source.list_tags(parse_ref("redis"))
    with pytest.raises(SourceUnavailable, match=r"max_calls \(1\) reached"):
        source.list_tags(parse_ref("nginx"))
    assert len(tags_api.calls) == 1 and calls.network == 1


def test_fixtures_are_real_envelopes():
    body = json.loads(fixture("api", "library__redis.tags.json").read_text())
    assert set(body) == {"data", "meta", "status", "message", "success"}
