"""A fake tags API on loopback, serving fixture files in the real envelope.

Tests start it as a fixture; people start it by hand for an offline demo:

    python -m tests.fakeapi --fixtures tests/fixtures/api --port 8765 --key demo

`/v1/tags?name=nginx&limit=N` answers `library__nginx.tags.json` cut to N tags (25 when no
limit, as the real API), `/v1/image?name=` the `.image.json`, `/v1/search?q=` `search_<q>.json`.
Every request needs the `x-oanor-key` header. `script` makes an image misbehave: a list of
answers to give, in order, before the normal one ("401", "404", "500", "429:2" for a 429 with
Retry-After 2, "slow:0.5", "malformed", "envelope"); `bodies` gives an image a body of its own.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import serve

DEFAULT_LIMIT = 25


def envelope(data: object, message: str = "ok", success: bool = True) -> bytes:
    meta = {"timestamp": "2026-08-22T06:00:00Z", "request_id": "fake"}
    status = "ok" if success else "error"
    return json.dumps({"data": data, "meta": meta, "status": status, "message": message, "success": success}).encode()


@dataclass
class FakeTagsAPI:
    fixtures: Path
    key: str = "test-key"
    latency: float = 0.0
    script: dict[str, list[str]] = field(default_factory=dict)
    bodies: dict[str, bytes] = field(default_factory=dict)  # name -> the body to answer, as it is
    requests: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0  # requests answered at once: how concurrent the client was
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _files: dict[tuple[Path, int, int], dict[str, Any]] = field(default_factory=dict)

    @property
    def calls(self) -> list[str]:
        return list(self.requests)

    def answer(self, path: str, query: dict[str, str], key: str | None) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            name = query.get("name") or query.get("q") or ""
            queued = self.script.get(name, [])
            behaviour = queued.pop(0) if queued else "ok"
        try:
            return self._answer(path, query, key, behaviour)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, path: str, query: dict[str, str], key: str | None, behaviour: str) -> tuple[int, dict[str, str], bytes]:
        if self.latency:
            time.sleep(self.latency)
        if key != self.key:
            return 401, {}, envelope(None, "Invalid or missing API key", success=False)
        kind, _, argument = behaviour.partition(":")
        if kind == "slow":
            time.sleep(float(argument))
        elif kind == "429":
            return 429, {"Retry-After": argument or "1"}, envelope(None, "Too many requests", success=False)
        elif kind == "malformed":
            return 200, {}, b'{"data": {"tags": [ this is not json'
        elif kind == "envelope":
            return 200, {}, json.dumps({"tags": []}).encode()
        elif kind.isdigit():
            return int(kind), {}, envelope(None, f"fake {kind}", success=False)
        name = query.get("name") or ""
        if name in self.bodies:
            return 200, {}, self.bodies[name]
        return self._normal(path, query)

    def _normal(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        name = query.get("name", "")
        stem = name.replace("/", "__") if "/" in name else f"library__{name}"
        if path == "/v1/tags":
            file = self.fixtures / f"{stem}.tags.json"
            if not file.is_file():
                return 404, {}, envelope(None, "Image not found", success=False)
            body = dict(self._parsed(file))
            limit = int(query.get("limit", DEFAULT_LIMIT))
            body["data"] = {**body["data"], "tags": body["data"]["tags"][:limit]}
            return 200, {}, json.dumps(body).encode()
        if path == "/v1/image":
            file = self.fixtures / f"{stem}.image.json"
            return (200, {}, file.read_bytes()) if file.is_file() else (404, {}, envelope(None, "Image not found", False))
        if path == "/v1/search":
            file = self.fixtures / f"search_{query.get('q', '')}.json"
            return (200, {}, file.read_bytes()) if file.is_file() else (200, {}, envelope({"results": []}))
        if path == "/v1/meta":
            return 200, {}, envelope({"version": "fake"})
        return 404, {}, envelope(None, "No such endpoint", success=False)

    def _parsed(self, file: Path) -> dict[str, Any]:
        """A fixture parsed once (until a test rewrites it): some are megabytes, and a test may
        ask for them hundreds of times."""
        stat = file.stat()
        key = (file, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if key not in self._files:
                self._files[key] = json.loads(file.read_text())
            return self._files[key]

    def handler(self, *args: object) -> BaseHTTPRequestHandler:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                status, headers, body = api.answer(parts.path, query, self.headers.get("x-oanor-key"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # tests read api.requests instead

        return Handler(*args)  # type: ignore[arg-type]


@contextmanager
def serving(api: FakeTagsAPI, port: int = 0) -> Iterator[FakeTagsAPI]:
    with serve(api.handler, port) as url:
        api.url = url
        yield api


def main() -> None:
    from tests.fakehub import FakeHub
    from tests.fakehub import serving as serving_hub

    parser = argparse.ArgumentParser(description="Serve fixture files as the tags API (and Docker Hub's) on 127.0.0.1.")
    parser.add_argument("--fixtures", type=Path, default=Path(__file__).parent / "fixtures" / "api")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--hub-port", type=int, help="Docker Hub's stand-in (default: --port + 1)")
    parser.add_argument("--key", default="test-key", help="the x-oanor-key value to accept")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    args = parser.parse_args()
    api = FakeTagsAPI(args.fixtures, key=args.key, latency=args.latency)
    with serving(api, args.port), serving_hub(FakeHub(args.fixtures), args.hub_port or args.port + 1) as hub:
        print(f"fake tags API on {api.url} (key {args.key!r}), fake Docker Hub on {hub.url}; Ctrl-C stops them",
              flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
