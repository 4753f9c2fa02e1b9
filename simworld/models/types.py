"""The one interface every client and wrapper speaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass
class ChatRequest:
    """Messages (``{"role": ..., "content": ...}``) plus the JSON schema the answer must follow."""

    messages: list[dict[str, str]]
    schema: dict[str, Any] | None = None
    seed: int | None = None
    tag: str = ""  # who asks and why (agent id, node); not part of the cache key


@dataclass
class ChatResponse:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    latency_ms: float = 0.0  # of the original call (a cached response keeps it)
    retries: int = 0
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class ChatClient(Protocol):
    async def complete(self, request: ChatRequest) -> ChatResponse: ...


@runtime_checkable
class ManagedClient(Protocol):
    """A client that holds connections (closed with the gateway) and reports how it serves requests
    (merged into the manifest's ``models`` entry: structured mode, servers)."""

    async def complete(self, request: ChatRequest) -> ChatResponse: ...

    async def close(self) -> None: ...

    def info(self) -> dict[str, Any]: ...


class ModelError(Exception):
    """A model call that failed for good (after ``retries`` retries)."""

    def __init__(self, message: str, retries: int = 0) -> None:
        super().__init__(message)
        self.retries = retries


class BudgetExceeded(ModelError):
    """The run's model budget (calls or tokens) is spent."""


class CacheMiss(ModelError):
    """``cache: replay`` and the response is not in the cache."""


class CacheUnusable(ModelError):
    """The cache file cannot be opened or created (a bad ``model.cache_path``)."""


class TransientError(ModelError):
    """Worth retrying (rate limit, server error, timeout, broken response); ``retry_after`` in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
