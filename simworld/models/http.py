"""A small asyncio HTTP/1.1 client for JSON APIs (model servers): keep-alive connections per server, a
limit on connections, ``Content-Length`` and chunked bodies, TLS for ``https``.

Model servers answer one JSON object per request; a general client (httpx, the OpenAI SDK) spends about a
millisecond of CPU per request on features a simulation never uses, which at thousands of decisions per
second is most of the run. This one does one thing: POST a JSON body, read the status, the headers and the
body. Redirects, proxies, cookies and compression are not supported (servers send identity bodies when the
request does not ask for compression).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: Most bytes of a response body accepted (a chat answer is a few KB).
MAX_BODY = 64 << 20
#: Most bytes of a response's status line and headers.
MAX_HEAD = 64 << 10


class HTTPError(Exception):
    """The connection failed or the server broke the protocol (worth retrying elsewhere)."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Origin:
    """Where requests go: scheme, host, port and the path prefix of a base URL."""

    scheme: str
    host: str
    port: int
    prefix: str

    @classmethod
    def parse(cls, base_url: str) -> Origin:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


@dataclass
class Pool:
    """Keep-alive connections to one origin, at most ``limit`` open (callers wait for a free one)."""

    origin: Origin
    limit: int = 16
    connect_timeout: float = 30.0
    _idle: deque[_Conn] = field(default_factory=deque)
    _open: int = 0
    _waiters: deque[asyncio.Future[None]] = field(default_factory=deque)
    _ssl: ssl.SSLContext | None = None

    async def _acquire(self) -> tuple[_Conn, bool]:
        """A connection, and whether it was kept alive from an earlier request."""
        while True:
            while self._idle:
                conn = self._idle.pop()
                if not conn.writer.is_closing() and not conn.reader.at_eof():
                    return conn, True
                self._drop(conn)
            if self._open < self.limit:
                self._open += 1
                try:
                    return await self._connect(), False
                except BaseException:
                    self._open -= 1
                    self._wake()
                    raise
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            await fut

    async def _connect(self) -> _Conn:
        o = self.origin
        ctx = None
        if o.scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            ctx = self._ssl
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(o.host, o.port, ssl=ctx, limit=MAX_HEAD), self.connect_timeout)
        except (OSError, TimeoutError) as err:
            raise HTTPError(f"cannot connect to {o.host}:{o.port} ({err or type(err).__name__})") from None
        return _Conn(reader, writer)

    def _release(self, conn: _Conn, reusable: bool) -> None:
        if reusable:
            self._idle.append(conn)
        else:
            self._drop(conn)
        self._wake()

    def _drop(self, conn: _Conn) -> None:
        self._open -= 1
        conn.writer.close()

    def _wake(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Response:
        """POST ``body`` to ``prefix + path``; the whole response read. Raises HTTPError on a broken
        connection (a kept-alive connection the server closed is retried once on a new one)."""
        head = [f"POST {self.origin.prefix}{path} HTTP/1.1", f"Host: {self.origin.host_header}",
                "Content-Type: application/json", "Accept: application/json",
                f"Content-Length: {len(body)}", "Connection: keep-alive"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        for attempt in range(2):
            conn, reused = await self._acquire()
            try:
                conn.writer.write(request)
                response, keep = await self._read(conn.reader)
            except (OSError, asyncio.IncompleteReadError, HTTPError, ValueError) as err:
                self._release(conn, False)
                if attempt == 0 and reused and isinstance(err, (asyncio.IncompleteReadError, ConnectionError)):
                    continue  # the server closed an idle keep-alive connection: once more on a fresh one
                raise HTTPError(f"{self.origin.host}:{self.origin.port}: {err or type(err).__name__}") from None
            except BaseException:
                self._release(conn, False)  # cancelled mid-request: the connection's state is unknown
                raise
            self._release(conn, keep)
            return response
        raise HTTPError(f"{self.origin.host}:{self.origin.port}: the connection closed")  # pragma: no cover

    async def _read(self, reader: asyncio.StreamReader) -> tuple[Response, bool]:
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw[:-4].decode("latin-1").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
            raise HTTPError(f"not an HTTP response: {lines[0][:80]!r}")
        status = int(status_line[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        keep = headers.get("connection", "").lower() != "close" and status_line[0] != "HTTP/1.0"
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked(reader)
        elif "content-length" in headers:
            n = int(headers["content-length"])
            if n > MAX_BODY:
                raise HTTPError(f"response too large ({n} bytes)")
            body = await reader.readexactly(n)
        else:  # the body runs to the end of the connection
            body = await reader.read(MAX_BODY)
            keep = False
        return Response(status, headers, body), keep

    async def _chunked(self, reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise HTTPError("response too large")
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)

    async def close(self) -> None:
        while self._idle:
            conn = self._idle.pop()
            conn.writer.close()
            try:
                await conn.writer.wait_closed()
            except OSError:
                pass
        self._open = 0
