from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakeapi import FakeTagsAPI, serving
from tests.helpers import FIXTURES


@pytest.fixture
def tags_api() -> Iterator[FakeTagsAPI]:
    """The fake tags API on 127.0.0.1, serving tests/fixtures/api; key "test-key"."""
    with serving(FakeTagsAPI(FIXTURES / "api")) as api:
        yield api
