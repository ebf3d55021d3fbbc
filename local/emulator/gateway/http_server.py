"""``LocalApiGateway`` behind a threading HTTP server on loopback, framing requests as API Gateway does:
a payload over 10 MB or what the HTTP layer cannot parse is refused before routing, in the JSON shape."""

from __future__ import annotations

import logging
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.emulator.gateway.core import LocalApiGateway
from local.emulator.gateway.responses import MAX_PAYLOAD_BYTES, HttpRequest, HttpResponse
from local.stack.moto_server import LOOPBACK

logger = logging.getLogger(__name__)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients expect from API Gateway
    server: _GatewayHttpServer

    def _serve(self) -> None:
        started = time.perf_counter()
        declared = self.headers.get("Content-Length") or "0"
        if not declared.isascii() or not declared.isdigit():  # "-1" would read until the client hangs up
            self._refuse("DEFAULT_4XX")
            return
        length = int(declared)
        if length > MAX_PAYLOAD_BYTES:  # refused unread, as API Gateway does
            self._refuse("REQUEST_TOO_LARGE")
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self.rfile.read(length) if length else None,
            source_ip=self.client_address[0],
        )
        response = self.server.gateway.handle(request)
        self._write(response)
        # The access log: never headers (they carry the key).
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("%s %s → %d (%.0f ms)", self.command, self.path, response.status, elapsed_ms)

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":  # "GET /path" without a version: API Gateway speaks 1.1 and 2
            self.send_error(HTTPStatus.BAD_REQUEST)
            return False
        return True

    def _refuse(self, response_type: str) -> None:
        self.close_connection = True  # what is left of the request cannot be framed
        if self.request_version == "HTTP/0.9":  # http.server's default before it parsed a version
            self.request_version = self.protocol_version  # else it would send the body without a status line
        response = self.server.gateway.refuse(response_type)
        self._write(response)
        # Set only once http.server has parsed the request line.
        target = getattr(self, "path", "")
        logger.warning("%s %.200s refused before routing → %d", self.command or "-", target, response.status)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What http.server cannot parse (a request line or header line over its 64 KiB limit, a
        malformed request line) is answered in the JSON error shape too, never its HTML page."""
        too_large = code in (HTTPStatus.REQUEST_URI_TOO_LONG, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        logger.warning("the HTTP layer refused a request: %d %s", code, message or "")
        self._refuse("REQUEST_TOO_LARGE" if too_large else "DEFAULT_4XX")

    def __getattr__(self, name: str) -> Any:
        # The base class answers a method without a do_<METHOD> with its own 501 HTML page; API Gateway
        # answers any method (TRACE, CONNECT, a made-up token) that no route serves like an unknown path.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are logged by ``_serve``, with their path and latency but never their headers."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Errors of the HTTP layer itself (a malformed request line, say)."""
        logger.warning(format, *args)


class _GatewayHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], gateway: LocalApiGateway) -> None:
        self.gateway = gateway
        super().__init__(address, _RequestHandler)


class GatewayServer:
    """``LocalApiGateway`` behind a threading HTTP server on loopback (port 0: a free one).

    The port is bound on construction (a port in use fails at once); requests are served from ``start()``.
    """

    def __init__(self, gateway: LocalApiGateway, host: str = LOOPBACK, port: int = 0) -> None:
        self._server = _GatewayHttpServer((host, port), gateway)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-gateway", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever for a loop that never ran
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
