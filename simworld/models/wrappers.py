"""Wrappers around a ChatClient, one concern each; they compose (see ``gateway.build_stack``)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import random
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from simworld.models.types import (
    BudgetExceeded,
    CacheMiss,
    CacheUnusable,
    ChatClient,
    ChatRequest,
    ChatResponse,
    ModelError,
    TransientError,
)


class Concurrency:
    """At most ``limit`` calls in flight."""

    def __init__(self, inner: ChatClient, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self._sem: asyncio.Semaphore | None = None

    async def complete(self, request: ChatRequest) -> ChatResponse:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.limit)
        async with self._sem:
            return await self.inner.complete(request)


class Timeout:
    """A wall-clock limit per attempt (LangChain's OpenAI client has none by default)."""

    def __init__(self, inner: ChatClient, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds

    async def complete(self, request: ChatRequest) -> ChatResponse:
        try:
            return await asyncio.wait_for(self.inner.complete(request), self.seconds)
        except TimeoutError:
            raise TransientError(f"timed out after {self.seconds:g} s") from None


class Retry:
    """Attempts with a time limit each, retried on transient failures with exponential backoff and
    jitter, honouring ``Retry-After``.

    ``timeout`` bounds each attempt together with the wait before it: a wait of ``w`` seconds leaves the
    next attempt ``timeout - w``. No single wait exceeds ``max_wait``; a server that asks for a longer
    one (``Retry-After: 3600``), or for one that would leave no time for the attempt, is given up on at
    once. Backoff jitter comes from a seeded generator and only changes wall-clock time, never the log.
    """

    def __init__(
        self, inner: ChatClient, max_retries: int, timeout: float = math.inf, max_wait: float = 30.0,
        base: float = 0.25, cap: float = 8.0, seed: int = 0,
    ) -> None:
        self.inner = inner
        self.max_retries = max_retries
        self.timeout = timeout
        self.max_wait = max_wait
        self.base = base
        self.cap = cap
        self._jitter = random.Random(seed)

    async def _attempt(self, request: ChatRequest, allowance: float) -> ChatResponse:
        if math.isinf(allowance):
            return await self.inner.complete(request)
        try:
            return await asyncio.wait_for(self.inner.complete(request), allowance)
        except TimeoutError:
            raise TransientError(f"timed out after {allowance:g} s") from None

    async def complete(self, request: ChatRequest) -> ChatResponse:
        attempt = 0
        allowance = self.timeout
        while True:
            try:
                response = await self._attempt(request, allowance)
                response.retries = attempt
                return response
            except TransientError as err:
                if attempt >= self.max_retries:
                    raise ModelError(f"gave up after {attempt + 1} attempts: {err}", retries=attempt) from err
                if err.retry_after is not None:
                    delay = err.retry_after
                    if delay > self.max_wait or delay >= self.timeout:
                        limit = (f"model.max_retry_wait={self.max_wait:g}" if delay > self.max_wait
                                 else f"model.timeout={self.timeout:g}")
                        raise ModelError(f"gave up after {attempt + 1} attempts: the server asked to retry after "
                                         f"{delay:g} s, more than {limit} ({err})", retries=attempt) from err
                else:
                    delay = min(self.cap, self.max_wait, self.base * 2**attempt) * (0.5 + self._jitter.random())
                    delay = min(delay, self.max_wait, max(0.0, self.timeout / 2))
                await asyncio.sleep(delay)
                allowance = self.timeout - delay
                attempt += 1


def cache_key(provider: str, model: str, params: dict[str, Any], request: ChatRequest, endpoint: str = "") -> str:
    blob = json.dumps(
        {"provider": provider, "endpoint": endpoint, "model": model, "params": params, "messages": request.messages,
         "schema": request.schema, "seed": request.seed},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def cache_path_problem(path: Path) -> str | None:
    """Why the cache file at ``path`` cannot be used (None when it can), found without writing anything."""
    path = Path(path)
    if path.exists():
        if not path.is_file():
            return "is not a file"
        if not os.access(path, os.R_OK | os.W_OK):
            return "cannot be read and written"
        with open(path, "rb") as fh:
            head = fh.read(16)
        if head and head != b"SQLite format 3\x00":
            return "is not a SQLite database"
        return None
    folder = path.parent
    while not folder.exists():
        if folder.parent == folder:
            return "no folder on its path exists"
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot create it in {folder}"
    return None


class Cache:
    """Record/replay in SQLite: ``read_write`` serves hits and stores misses; ``replay`` makes a miss an error.

    The key holds the provider, the endpoint (a run pointed at another server is never answered with the
    first one's replies), the model, its parameters, the messages, the output schema and the seed.
    Failed calls are stored only with ``store_failures`` (to replay a run with its failures exactly);
    otherwise a rerun asks again.
    """

    def __init__(
        self, inner: ChatClient, path: Path, mode: str, provider: str, model: str, params: dict[str, Any],
        endpoint: str = "", store_failures: bool = False,
    ) -> None:
        self.inner = inner
        self.mode = mode
        self.provider, self.model, self.params = provider, model, params
        self.endpoint = endpoint
        self.store_failures = store_failures
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), timeout=30)
        except (OSError, sqlite3.Error) as err:
            raise CacheUnusable(f"model.cache_path: cannot use {path} ({err})") from None
        self.path = path
        self._prepare()
        self.hits = 0
        self.misses = 0

    def _prepare(self, wait: float = 30.0) -> None:
        """WAL mode and the table. Processes of a sweep may open a new cache file at the same instant:
        switching it to WAL takes a lock that SQLite's busy timeout does not wait for, so a locked database
        is tried again (with backoff, up to ``wait`` seconds) instead of failing the run."""
        deadline = time.monotonic() + wait
        delay = 0.01
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                # WAL with synchronous=NORMAL: a commit does not wait for the disk (a power cut may lose the
                # last answers, never the database); writers in several processes wait on the busy timeout
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.execute(
                    "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL, created REAL)"
                )
                self.db.commit()
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise CacheUnusable(f"model.cache_path: cannot use {self.path} ({err})") from None
                time.sleep(delay)
                delay = min(0.5, delay * 2)

    def key(self, request: ChatRequest) -> str:
        return cache_key(self.provider, self.model, self.params, request, self.endpoint)

    async def complete(self, request: ChatRequest) -> ChatResponse:
        key = self.key(request)
        row = self.db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        if row is not None:
            self.hits += 1
            stored = json.loads(row[0])
            if "error" in stored:
                raise ModelError(stored["error"], retries=int(stored.get("retries") or 0))
            stored["cached"] = True
            return ChatResponse(**stored)
        self.misses += 1
        if self.mode == "replay":
            raise CacheMiss(f"cache miss in replay mode (key {key[:16]}) in {self.path}")
        try:
            response = await self.inner.complete(request)
        except (CacheMiss, BudgetExceeded):
            raise
        except ModelError as err:
            if self.store_failures:  # a failure is an outcome too: replaying it keeps a rerun exact
                self._store(key, {"error": str(err), "retries": err.retries})
            raise
        record = asdict(response)
        record["cached"] = False
        self._store(key, record)
        return response

    def _store(self, key: str, record: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO responses (key, response, created) VALUES (?, ?, ?)",
            (key, json.dumps(record), time.time()),
        )
        self.db.commit()

    def close(self) -> None:
        self.db.close()


class Accounting:
    """Tallies calls, tokens, cost, cache hits and failures (reported in the manifest)."""

    def __init__(self, inner: ChatClient, cost_in: float = 0.0, cost_out: float = 0.0) -> None:
        self.inner = inner
        self.cost_in, self.cost_out = cost_in, cost_out
        self.calls = self.failures = self.cached = self.retries = 0
        self.input_tokens = self.output_tokens = 0

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.calls += 1
        try:
            response = await self.inner.complete(request)
        except ModelError as err:
            self.failures += 1
            self.retries += err.retries
            raise
        self.cached += int(response.cached)
        self.retries += response.retries
        self.input_tokens += response.input_tokens
        self.output_tokens += response.output_tokens
        return response

    def summary(self) -> dict[str, Any]:
        cost = self.input_tokens / 1000 * self.cost_in + self.output_tokens / 1000 * self.cost_out
        return {
            "calls": self.calls, "cached": self.cached, "failures": self.failures, "retries": self.retries,
            "input_tokens": self.input_tokens, "output_tokens": self.output_tokens, "cost": round(cost, 6),
        }


class Budget:
    """Counts the run's calls and tokens against its limits.

    The budget is checked before each decision starts (``exhausted``), never in the middle of one, and
    cached responses count too: so a rerun from the cache stops at exactly the same decision. Decisions
    already under way when the budget runs out finish (a run overshoots by at most one batch), unless
    ``strict``: then a call past the limit is refused (``BudgetExceeded``; its decision falls back to the
    rule policy), so the limit is never passed (a sweep's budget split over its runs is strict)."""

    def __init__(self, inner: ChatClient, max_calls: int | None, max_tokens: int | None,
                 strict: bool = False) -> None:
        self.inner = inner
        self.max_calls, self.max_tokens = max_calls, max_tokens
        self.strict = strict
        self.calls = 0
        self.tokens = 0

    def exhausted(self) -> str | None:
        if self.max_calls is not None and self.calls >= self.max_calls:
            return f"model budget reached: {self.calls} calls of max_calls={self.max_calls}"
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            return f"model budget reached: {self.tokens} tokens of max_total_tokens={self.max_tokens}"
        return None

    async def complete(self, request: ChatRequest) -> ChatResponse:
        if self.strict:
            spent = self.exhausted()
            if spent:
                raise BudgetExceeded(spent)
        self.calls += 1
        response = await self.inner.complete(request)
        self.tokens += response.input_tokens + response.output_tokens
        return response
