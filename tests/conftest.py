from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakeapi import FakeTagsAPI, serving
from tests.fakehub import FakeHub
from tests.fakehub import serving as serving_hub
from tests.gitworld import World, make_world
from tests.helpers import FIXTURES


@pytest.fixture
def tags_api() -> Iterator[FakeTagsAPI]:
    """The fake tags API on 127.0.0.1, serving tests/fixtures/api; key "test-key"."""
    with serving(FakeTagsAPI(FIXTURES / "api")) as api:
        yield api


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A repository with a bare remote, a fake GitHub and a fake tags API; cwd is the checkout."""
    yield from make_world(tmp_path, monkeypatch)


@pytest.fixture(autouse=True)
def fast_default_paces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback servers need no politeness: Docker Hub's default pace is lifted here, and tested
    on its own with a fake clock (tests/test_pacing.py); registries have no per-second pace."""
    monkeypatch.setattr("tagbot.sources.select.DEFAULT_HUB_RATE", 1000.0)


@pytest.fixture(scope="session")
def hub_server() -> Iterator[FakeHub]:
    with serving_hub(FakeHub(FIXTURES / "api")) as fake:
        yield fake


@pytest.fixture(autouse=True)
def hub(hub_server: FakeHub, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    """The fake Docker Hub API on 127.0.0.1, serving the same fixture files in Hub's JSON; every
    test has it as $TAGBOT_HUB_URL, as fills from Docker Hub are on by default. One server for
    the session (parsed fixtures kept), its requests and switches fresh for each test."""
    hub_server.requests.clear()
    monkeypatch.setattr(hub_server, "ignores_name", False)
    monkeypatch.setenv("TAGBOT_HUB_URL", hub_server.url)
    return hub_server


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may send traffic beyond this machine: a request elsewhere fails the test at once
    (a default URL left in place by mistake, say), instead of leaving for the internet."""
    real = httpx.HTTPTransport.handle_request

    def guarded(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if request.url.host not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"a test tried to reach {request.url.host}; only loopback servers may be used")
        return real(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", guarded)
