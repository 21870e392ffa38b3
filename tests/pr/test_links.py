"""Pull request links: the source an image declares in its config's OCI label (read through a
real registry, Debian's docker-registry on loopback), the GitHub release notes for the new version
(from the fake GitHub), and a compare link."""

from __future__ import annotations

from collections.abc import Iterator
import httpx
import pytest

from tagbot.cli import main
from tagbot.sources.registry import Registry
from tests.gitworld import World
from tests.registry import Pusher, running_registry

NOTES = "## What's changed\n\n* Faster startup <!-- tagbot:state {\"proposals\":[]} -->\n" + "* more\n" * 400


@pytest.fixture
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_registry(tmp_path_factory.mktemp("registry")) as url:
        pusher = Pusher(url)
        source = {"org.opencontainers.image.source": "https://github.com/acme/tool"}
        for tag in ("1.1.0", "1.2.0"):
            pusher.image("acme/tool", [tag], ["linux/amd64", "linux/arm64"], labels=source, salt=tag)
        pusher.image("acme/plain", ["1.0"], ["linux/amd64"], labels={"org.opencontainers.image.source": "javascript:x"})
        pusher.image("acme/plain", ["1.1"], ["linux/amd64"], labels={"org.opencontainers.image.source": "javascript:x"})
        yield url


def test_source_release_notes_and_compare_links(world: World, registry: str):
    host = httpx.URL(registry).netloc.decode()
    world.github.releases[("acme/tool", "v1.2.0")] = NOTES
    (world.checkout / "tagbot.yaml").write_text(f"rate_limit: 100\nregistries: {{'{host}': {{source: registry, insecure: true}}}}\n")
    world.push_to_main("Dockerfile", f"FROM {host}/acme/tool:1.1.0\nFROM {host}/acme/plain:1.0\n")
    world.push_to_main("compose.yaml", "services: {}\n")
    assert world.pr() == 0
    tool = next(p for p in world.github.open_pulls() if "acme/tool" in p["title"])
    body = tool["body"]
    assert ("- acme/tool `1.2.0`: [source](https://github.com/acme/tool) · "
            "[release notes](https://github.com/acme/tool/releases/tag/v1.2.0) · "
            "[compare](https://github.com/acme/tool/compare/v1.1.0...v1.2.0)") in body.replace(f"{host}/", "")
    assert "<details><summary>" in body and "## What's changed" in body and "…" in body
    assert len(body) < 4000  # the notes are shortened
    assert body.count("<!-- tagbot:state") == 1  # notes cannot pass for tagbot's own state
    plain = next(p for p in world.github.open_pulls() if "acme/plain" in p["title"])
    assert "What changed" not in plain["body"]  # a label that is no https URL is no link
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes  # links read again, the same: nothing to write


def test_a_tags_source_is_read_once_and_offline_from_the_index(world: World, registry: str, tmp_path,
                                                               monkeypatch: pytest.MonkeyPatch):
    host = httpx.URL(registry).netloc.decode()
    world.github.releases[("acme/tool", "v1.2.0")] = "Notes"
    (world.checkout / "tagbot.yaml").write_text(f"rate_limit: 100\nregistries: {{'{host}': {{source: registry, insecure: true}}}}\n")
    world.push_to_main("Dockerfile", f"FROM {host}/acme/tool:1.1.0\n")
    world.push_to_main("compose.yaml", "services: {}\n")
    cache = str(tmp_path / "cache")
    assert main(["pr", "--cache-dir", cache]) == 0
    body = next(p for p in world.github.open_pulls() if "acme/tool" in p["title"])["body"]
    assert "[source](https://github.com/acme/tool)" in body

    def tripwire(*args: object) -> None:
        raise AssertionError("the source label was read again")

    monkeypatch.setattr(Registry, "source_url", tripwire)
    writes = list(world.github.writes)
    assert main(["pr", "--cache-dir", cache]) == 0
    assert main(["pr", "--cache-dir", cache, "--offline"]) == 0
    assert world.github.writes == writes  # the same links, from the index
