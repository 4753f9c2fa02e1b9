"""The replay server: a read-only HTTP server for one run directory and the viewer's own assets.

Routes: ``/`` (the page), ``/static/...`` (assets), ``/panel.js`` (the scenario panel, from the scenario's
package or the user's ``--panel``: never from the run folder, see :mod:`simworld.viewer.panels`),
``/api/{meta,events,histogram,beliefs,knowledge,memory,metrics}`` (JSON; ``knowledge``: see
:mod:`simworld.viewer.knowledge_view`), ``/files/NAME`` (a file of the run
directory, as text; never a script or a page). Only GET and HEAD; paths are checked so that nothing outside the run directory or
the asset folder can be read, and on a loopback address only loopback Host headers are answered (a
defence against DNS rebinding). Every answer, errors included (also those the stdlib makes itself: 400,
414, 431, 501, 505), carries the same security headers; a malformed request is a 400.
"""

from __future__ import annotations

import ipaddress
import mimetypes
import posixpath
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from simworld.runlog import dumps
from simworld.viewer.index import Query, QueryError, int_param
from simworld.viewer.knowledge_view import KnowledgeQuery
from simworld.viewer.panels import STATIC
from simworld.viewer.run import RunView, servable

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
FILE_CSP = "default-src 'none'; sandbox"
#: For every answer that is not the page or a run file (JSON, scripts, errors).
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
TEXT_TYPES = {".json": "application/json", ".jsonl": "text/plain", ".txt": "text/plain", ".yaml": "text/plain"}


def safe_path(root: Path, rel: str) -> Path | None:
    """``root/rel`` if it names a regular file inside ``root`` (symlinks resolved), else None.

    ``rel`` is already percent-decoded once; absolute paths, ``..``, backslashes, NUL and empty segments
    are refused outright rather than normalised."""
    if not rel or "\x00" in rel or "\\" in rel or rel.startswith("/") or posixpath.isabs(rel):
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    try:
        base = root.resolve(strict=True)
        target = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


def static_files() -> dict[str, Path]:
    """Every asset the page may load, by URL path under /static/."""
    return {p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file()}


class ReplayServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that holds the RunView the handlers answer from."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, view: RunView, host: str = "127.0.0.1", port: int = 0) -> None:
        self.view = view
        self.assets = static_files()
        self.loopback = _is_loopback(host)
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), ReplayHandler)

    @property
    def url(self) -> str:
        address, port = self.server_address[:2]
        host = address.decode() if isinstance(address, bytes) else str(address)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def start_background(self) -> threading.Thread:
        """Serve in a daemon thread (tests, notebooks); stop with ``shutdown()``."""
        thread = threading.Thread(target=self.serve_forever, name="simworld-replay", daemon=True)
        thread.start()
        return thread


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ReplayHandler(BaseHTTPRequestHandler):
    server: ReplayServer
    server_version = "simworld-replay"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the CLI prints the URL, not one line per request

    # -- plumbing -----------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        headers = {"Content-Security-Policy": DATA_CSP, **(extra or {})}
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The errors the stdlib answers by itself (a bad request line, 414, 431, 501, 505) as JSON, with
        the headers of every other answer (its own HTML page carries none of them)."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            # a request line too broken to say its version: answer in HTTP/1.0, so that the headers go out
            self.request_version = "HTTP/1.0"
        self._send(code, dumps({"error": message or phrase}), "application/json", {"Connection": "close"})

    def _json(self, body: bytes | dict[str, Any], status: int = 200) -> None:
        self._send(status, body if isinstance(body, bytes) else dumps(body), "application/json")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._send(status, dumps({"error": message}), "application/json")

    def _host_ok(self) -> bool:
        if not self.server.loopback:
            return True
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
        return name.lower() in LOOPBACK_NAMES or name == self.server.server_address[0]

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self._host_ok():
            self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
            return
        try:
            parts = urlsplit(self.path)
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "malformed request target")
            return
        try:
            self._route(parts.path, params)
        except QueryError as err:
            self._error(HTTPStatus.BAD_REQUEST, str(err))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as err:  # noqa: BLE001 - one bad request must not take the server down
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(err).__name__}: {err}")

    def _refuse(self, *_: Any) -> None:
        self._error(HTTPStatus.METHOD_NOT_ALLOWED, "the replay server is read-only")

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

    # -- routes -------------------------------------------------------------------------------------
    def _route(self, raw_path: str, params: dict[str, str]) -> None:
        view = self.server.view
        if raw_path in ("/", "/index.html"):
            self._asset("index.html")
        elif raw_path.startswith("/static/"):
            self._asset(unquote(raw_path[len("/static/") :]))
        elif raw_path == "/panel.js":
            source = view.panel.source()
            if source is None:
                self._error(HTTPStatus.NOT_FOUND, "this run has no panel script")
            else:
                self._send(200, source, "text/javascript; charset=utf-8")
        elif raw_path.startswith("/files/"):
            self._file(unquote(raw_path[len("/files/") :]))
        elif raw_path.startswith("/api/"):
            self._api(raw_path[len("/api/") :], params)
        else:
            self._error(HTTPStatus.NOT_FOUND, "no such page")

    def _asset(self, name: str) -> None:
        path = self.server.assets.get(name)
        if path is None:
            self._error(HTTPStatus.NOT_FOUND, "no such asset")
            return
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        extra = {"Content-Security-Policy": PAGE_CSP} if name.endswith(".html") else None
        self._send(200, path.read_bytes(), ctype, extra)

    def _file(self, rel: str) -> None:
        path = safe_path(self.server.view.path, rel)
        if path is None or not servable(Path(rel)) or not servable(path):
            self._error(HTTPStatus.NOT_FOUND, "no such file in the run directory")
            return
        ctype = TEXT_TYPES.get(path.suffix.lower(), "text/plain")
        self._send(200, path.read_bytes(), ctype + "; charset=utf-8", {"Content-Security-Policy": FILE_CSP})

    def _api(self, name: str, params: dict[str, str]) -> None:
        view = self.server.view
        if name == "meta":
            self._json(view.meta())
        elif name == "events":
            self._json(view.events_page(Query.parse(params)))
        elif name == "histogram":
            bins = int_param(params, "bins")
            bins = 200 if bins is None else bins
            self._json(view.index.histogram(Query.parse({k: v for k, v in params.items() if k != "bins"}), bins))
        elif name == "beliefs":
            self._json(view.beliefs(_required(params, "agent"), _upto(params)))
        elif name == "knowledge":
            self._json(view.knowledge_answer(KnowledgeQuery.parse(params), _upto(params)))
        elif name == "memory":
            self._json(view.memory(_required(params, "agent"), _upto(params)))
        elif name == "metrics":
            self._json(view.metrics())
        else:
            self._error(HTTPStatus.NOT_FOUND, "no such API")


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise QueryError(f"{name} is required")
    return value


def _upto(params: dict[str, str]) -> int | None:
    return int_param(params, "upto")


def serve(
    run_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    panel: Path | None = None,
    workers: int | None = None,
) -> ReplayServer:
    """Open ``run_dir`` (building its index) and bind a server; call ``serve_forever()`` or
    ``start_background()`` on the result."""
    return ReplayServer(RunView(run_dir, panel=panel, workers=workers), host, port)
