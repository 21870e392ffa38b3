"""Serving a test's fake server on 127.0.0.1: one place for the thread, the port and the stop."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from typing import Any


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that timed out and left is what the slow switches are for


@contextmanager
def serve(handler: Callable[..., Any], port: int = 0) -> Iterator[str]:
    """Serve `handler` (a request handler class or factory) until the block ends; its URL."""
    server = QuietServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on: a port the system handed out, then closed again
    (a fixed port such as 9 may be in use on some machine)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
