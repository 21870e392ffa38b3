from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeapi import FakeTagsAPI, serving
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
