"""Shared test helpers: fixture files live in tests/fixtures and must exist."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    assert path.is_file(), f"missing fixture {path}"
    return path


def fixture_text(*parts: str) -> str:
    return fixture(*parts).read_bytes().decode("utf-8")
