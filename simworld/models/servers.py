"""One model behind several servers (vLLM replicas, say): each request goes to the server with the fewest
requests outstanding; a server that fails (cannot be reached, answers 5xx or 429) is rested for a while and
the request goes to another one at once. Calls and failures are counted per server for the manifest."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simworld.models.http import HTTPError, Origin, Pool, Response
from simworld.models.types import TransientError

#: Seconds a server that failed is passed over (unless every server is resting).
REST_SECONDS = 5.0


@dataclass
class Server:
    url: str
    pool: Pool
    outstanding: int = 0
    calls: int = 0
    failures: int = 0
    resting_until: float = 0.0
    last_error: str | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        return {"calls": self.calls, "failures": self.failures}


def _retry_after(response: Response) -> float | None:
    value = response.header("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class ServerSet:
    """Servers of one model, least outstanding requests first; failures rest a server and fail over."""

    def __init__(self, base_urls: Sequence[str], connections: int, connect_timeout: float = 30.0,
                 rest: float = REST_SECONDS) -> None:
        self.servers = [Server(url, Pool(Origin.parse(url), limit=connections, connect_timeout=connect_timeout))
                        for url in base_urls]
        self.rest = rest

    def _order(self) -> list[Server]:
        now = time.monotonic()
        awake = [s for s in self.servers if s.resting_until <= now]
        resting = sorted((s for s in self.servers if s.resting_until > now), key=lambda s: s.resting_until)
        return sorted(awake, key=lambda s: s.outstanding) + resting

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Response:
        """The first answer that is not a server failure; a server failure rests that server and tries the
        next. When every server failed, a TransientError (with the shortest Retry-After asked) for the
        retry wrapper; any other answer (2xx, 4xx) is returned to the caller."""
        errors: list[str] = []
        retry_after: float | None = None
        for server in self._order():
            server.outstanding += 1
            server.calls += 1
            try:
                response = await server.pool.post(path, body, headers)
            except HTTPError as err:
                self._failed(server, str(err))
                errors.append(str(err))
                continue
            finally:
                server.outstanding -= 1
            if response.status == 429 or response.status >= 500 or response.status == 408:
                wait = _retry_after(response)
                if wait is not None:
                    retry_after = wait if retry_after is None else min(retry_after, wait)
                snippet = response.body[:300].decode("utf-8", "replace")
                self._failed(server, f"HTTP {response.status}: {snippet}", wait)
                errors.append(f"{server.url}: HTTP {response.status}: {snippet}")
                continue
            return response
        raise TransientError("; ".join(errors) or "no server", retry_after)

    def _failed(self, server: Server, error: str, wait: float | None = None) -> None:
        server.failures += 1
        server.last_error = error
        if len(self.servers) > 1:
            server.resting_until = time.monotonic() + max(self.rest, wait or 0.0)

    def summary(self) -> dict[str, dict[str, Any]]:
        return {s.url: s.summary() for s in self.servers}

    async def close(self) -> None:
        for s in self.servers:
            await s.pool.close()
