"""Debian's docker-registry (distribution) on loopback for tests, and a pusher that uploads
synthetic multi-arch images through the distribution API: tiny blobs, OCI image manifests and
an image index, as `docker buildx` would push them.

Where the binary is missing the registry tests skip, except under CI=true, where that fails:
.ci/run installs it, and a CI that skips them proves nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def registry_binary() -> str:
    found = shutil.which("docker-registry") or shutil.which("registry")
    if found is None:
        message = "docker-registry is not installed (apt-get install -y docker-registry)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; under CI=true the registry tests must run")
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_registry(folder: Path, auth: dict[str, Any] | None = None) -> Iterator[str]:
    """A registry with its own storage under `folder`; yields its base URL."""
    binary = registry_binary()
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "error"},
        "storage": {"filesystem": {"rootdirectory": str(folder / "storage")}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "test-secret"},
    }
    if auth:
        config["auth"] = auth
    (folder / "config.yml").write_text(json.dumps(config))  # JSON is YAML
    url = f"http://127.0.0.1:{port}"
    with open(folder / "registry.log", "w") as log:
        process = subprocess.Popen([binary, "serve", str(folder / "config.yml")], stdout=subprocess.DEVNULL, stderr=log)
        try:
            _wait_until_up(url, process, folder)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(folder / 'registry.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/v2/", timeout=1).status_code in (200, 401):
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("docker-registry did not start within 15 s")


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Pusher:
    """Uploads blobs and manifests with plain distribution API calls; `headers` may carry auth."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.client = httpx.Client(base_url=url, headers=headers or {}, timeout=10)

    def blob(self, repository: str, data: bytes) -> dict[str, Any]:
        digest = digest_of(data)
        started = self.client.post(f"/v2/{repository}/blobs/uploads/")
        started.raise_for_status()
        location = started.headers["location"]
        separator = "&" if "?" in location else "?"
        self.client.put(f"{location}{separator}digest={digest}", content=data,
                        headers={"content-type": "application/octet-stream"}).raise_for_status()
        return {"digest": digest, "size": len(data)}

    def manifest(self, repository: str, reference: str, body: dict[str, Any], media_type: str) -> str:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.client.put(f"/v2/{repository}/manifests/{reference}", content=data,
                        headers={"content-type": media_type}).raise_for_status()
        return digest_of(data)

    def image(self, repository: str, tags: Sequence[str], platforms: Sequence[str], created: str = "2026-08-01T00:00:00Z",
              salt: str = "", labels: dict[str, str] | None = None) -> str:
        """A multi-arch image (an index over one manifest per platform) under every tag in
        `tags`; its index digest. `salt` makes a different build of the same tags; `labels`
        go in each image's config, as `docker build --label` puts them."""
        entries = []
        for platform in platforms:
            os_name, arch, *variant = platform.split("/")
            layer = self.blob(repository, f"layer {platform} {salt}".encode())
            config = {"architecture": arch, "os": os_name, "created": created,
                      "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}, "config": {"Labels": labels or {}}}
            if variant:
                config["variant"] = variant[0]
            config_blob = self.blob(repository, json.dumps(config).encode())
            manifest = {"schemaVersion": 2, "mediaType": MANIFEST,
                        "config": {"mediaType": CONFIG, **config_blob}, "layers": [{"mediaType": LAYER, **layer}]}
            digest = self.manifest(repository, digest_of(json.dumps(manifest, separators=(",", ":")).encode()),
                                   manifest, MANIFEST)
            size = len(json.dumps(manifest, separators=(",", ":")).encode())
            platform_entry = {"os": os_name, "architecture": arch, **({"variant": variant[0]} if variant else {})}
            entries.append({"mediaType": MANIFEST, "digest": digest, "size": size, "platform": platform_entry})
        index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}
        digest = ""
        for tag in tags:
            digest = self.manifest(repository, tag, index, INDEX)
        return digest

    def feature(self, repository: str, tags: Sequence[str]) -> str:
        """A devcontainer feature as its CLI publishes it: an OCI artifact, with an empty config
        of its own media type and one tar layer, and no platform anywhere; its manifest digest."""
        layer = self.blob(repository, f"feature {tags[0]}".encode())
        config = self.blob(repository, b"{}")
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST,
                    "config": {"mediaType": "application/vnd.devcontainers", **config},
                    "layers": [{"mediaType": "application/vnd.devcontainers.layer.v1+tar", **layer}]}
        digest = ""
        for tag in tags:
            digest = self.manifest(repository, tag, manifest, MANIFEST)
        return digest

    def single(self, repository: str, tag: str, platform: str = "linux/amd64") -> str:
        """An image with one manifest and no index; its manifest digest."""
        os_name, arch, *_ = platform.split("/")
        layer = self.blob(repository, f"single {tag}".encode())
        config_blob = self.blob(repository, json.dumps({"architecture": arch, "os": os_name,
                                                        "created": "2026-07-01T00:00:00Z"}).encode())
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST,
                    "config": {"mediaType": CONFIG, **config_blob}, "layers": [{"mediaType": LAYER, **layer}]}
        return self.manifest(repository, tag, manifest, MANIFEST)


class CountingProxy:
    """Forwards GET and HEAD to the registry, counting requests by kind and timing the
    registry's answers."""

    def __init__(self, upstream: str) -> None:
        self.upstream = httpx.Client(base_url=upstream, timeout=30)
        self.kinds: Counter[str] = Counter()
        self.answer_seconds = 0.0
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.kinds.clear()
            self.answer_seconds = 0.0

    def forward(self, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
        kind = ("tag list" if "/tags/list" in path else f"manifest {method}" if "/manifests/" in path
                else f"blob {method}" if "/blobs/" in path else f"other {method}")
        started = time.perf_counter()
        response = self.upstream.request(method, path, headers=headers)
        with self._lock:
            self.kinds[kind] += 1
            self.answer_seconds += time.perf_counter() - started
        return response

    def handler(self, *args: object) -> BaseHTTPRequestHandler:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                wanted = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization")}
                response = proxy.forward(self.command, self.path, wanted)
                self.send_response(response.status_code)
                for name, value in response.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(name, value)
                body = b"" if self.command == "HEAD" else response.content
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_HEAD = _serve  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler(*args)  # type: ignore[arg-type]
