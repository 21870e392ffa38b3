"""A fake Docker Hub API on loopback: `/v2/repositories/{namespace}/{repo}/tags` (and the
`/v2/namespaces/{namespace}/repositories/{repo}/tags` spelling), paged with absolute `next` links
as Docker Hub writes them, built from the tags API fixture files. Like Docker Hub it takes
`page`, `page_size` (at most 100), `ordering=last_updated` and a `name` substring filter; with
`ignores_name` it ignores the filter, as a mirror might."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import serve


@dataclass
class FakeHub:
    fixtures: Path
    requests: list[str] = field(default_factory=list)
    url: str = ""
    ignores_name: bool = False
    _tags: dict[tuple[Path, int, int], list[dict[str, Any]]] = field(default_factory=dict)

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        self.requests.append(path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(query.items())) if query else ""))
        parts = path.strip("/").split("/")
        if len(parts) == 6 and parts[:2] == ["v2", "namespaces"] and parts[3] == "repositories":
            parts = ["v2", "repositories", parts[2], parts[4], parts[5]]
        if len(parts) != 5 or parts[:2] != ["v2", "repositories"] or parts[4] != "tags":
            return 404, {"message": "not found"}
        file = self.fixtures / f"{parts[2]}__{parts[3]}.tags.json"
        if not file.is_file():
            return 404, {"message": "object not found"}
        stat = file.stat()
        key = (file, stat.st_mtime_ns, stat.st_size)
        if key not in self._tags:  # parsed once (until a test rewrites it): some fixtures are megabytes
            self._tags[key] = json.loads(file.read_text())["data"]["tags"]
        tags = self._tags[key]
        if query.get("name") and not self.ignores_name:
            tags = [t for t in tags if query["name"] in t["name"]]
        size, page = min(int(query.get("page_size", 10)), 100), int(query.get("page", 1))
        chunk = tags[(page - 1) * size : page * size]
        more = page * size < len(tags)
        name = f"&name={query['name']}" if query.get("name") else ""
        next_url = f"{self.url}{path}?page={page + 1}&page_size={size}&ordering=last_updated{name}" if more else None
        return 200, {"count": len(tags), "next": next_url, "previous": None, "results": [_hub_tag(t) for t in chunk]}

    def handler(self, *args: object) -> BaseHTTPRequestHandler:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                status, body = hub.answer(parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler(*args)  # type: ignore[arg-type]


def _hub_tag(tag: dict[str, Any]) -> dict[str, Any]:
    images = []
    for platform in tag["platforms"]:
        os_name, arch, *variant = platform.split("/")
        images.append({"os": os_name, "architecture": arch, "variant": variant[0] if variant else None,
                       "digest": tag["digest"], "size": tag["size"], "status": "active"})
    return {"name": tag["name"], "digest": tag["digest"], "full_size": tag["size"], "images": images,
            "last_updated": tag["last_updated"], "tag_status": "active"}


@contextmanager
def serving(hub: FakeHub, port: int = 0) -> Iterator[FakeHub]:
    with serve(hub.handler, port) as url:
        hub.url = url
        yield hub
