"""Shared test helpers: fixture files live in tests/fixtures and must exist."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from tagbot.sources.model import Tag

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    assert path.is_file(), f"missing fixture {path}"
    return path


def fixture_text(*parts: str) -> str:
    return fixture(*parts).read_bytes().decode("utf-8")


def load_tags(repository: str) -> list[Tag]:
    """The whole recorded tag list of `namespace/name`, newest first, as the policy gets it."""
    data = json.loads(fixture("api", f"{repository.replace('/', '__')}.tags.json").read_text())
    return [
        Tag(
            name=t["name"],
            digest=t["digest"],
            platforms=frozenset(t["platforms"]),
            size=t["size"],
            last_updated=datetime.fromisoformat(t["last_updated"].replace("Z", "+00:00")),
        )
        for t in data["data"]["tags"]
    ]
