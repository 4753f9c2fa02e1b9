"""The model spec a config gives (``model.provider``, ``model.base_url``, ...)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def default_cache_path() -> Path | None:
    """A per-user cache file, so that a rerun from any folder hits it; None when ``SIMWORLD_CACHE_DIR=off``
    (then only an explicit ``model.cache_path`` caches)."""
    env = os.environ.get("SIMWORLD_CACHE_DIR")
    if env is not None and env.strip().lower() == "off":
        return None
    base = env or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "simworld" / "model-cache.sqlite"


class ModelSpec(BaseModel):
    """Which chat model, how to reach it, and the limits around it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    provider: Literal["openai", "ollama", "local"] = Field(
        default="openai", description="openai: any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp, LM Studio)"
    )
    model: str = "gpt-4o-mini"
    base_url: str | list[str] | None = Field(
        default=None,
        description="e.g. http://127.0.0.1:8000/v1 for a local server; a list spreads requests over replicas",
    )
    structured: Literal["auto", "json_schema", "tools", "prompt"] = Field(
        default="auto",
        description="how answers are held to the decision's schema: the server constrains them (json_schema, "
                    "tools), or the prompt asks and the answer is parsed (prompt); auto: native when the server can",
    )
    api_key_env: str | None = Field(default="OPENAI_API_KEY", description="environment variable with the key")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=400, ge=1)
    timeout: float = Field(default=60.0, gt=0.0, le=86_400.0,
                           description="seconds per attempt, the wait before a retry included (always set)")
    max_retries: int = Field(default=3, ge=0, le=100)
    max_retry_wait: float = Field(default=30.0, ge=0.0, le=86_400.0,
                                  description="longest wait before a retry; a longer Retry-After gives up at once")
    max_concurrency: int = Field(default=16, ge=1)
    cache: Literal["off", "read_write", "replay"] = Field(
        default="read_write", description="replay: a cache miss is an error"
    )
    cache_path: Path | None = Field(default=None, description="default: ~/.cache/simworld/model-cache.sqlite")
    cache_failures: bool = Field(
        default=False, description="also record failed calls, so that a replay repeats them (default: ask again)"
    )
    max_calls: int | None = Field(default=None, ge=1, description="budget: model calls per run")
    max_total_tokens: int | None = Field(default=None, ge=1, description="budget: tokens per run")
    budget_strict: bool = Field(
        default=False, description="never pass the budget: a call past it is refused and its decision falls back "
                                   "(default: decisions under way when it runs out finish)")
    on_budget: Literal["stop", "rule"] = Field(
        default="stop", description="stop: end the run cleanly; rule: the rule policy decides from then on"
    )
    cost_per_1k_input: float = Field(default=0.0, ge=0.0)
    cost_per_1k_output: float = Field(default=0.0, ge=0.0)

    @field_validator("cache", mode="before")
    @classmethod
    def _off(cls, v: object) -> object:
        return "off" if v is False else v  # YAML reads a bare `off` as false

    @field_validator("base_url")
    @classmethod
    def _urls(cls, v: str | list[str] | None) -> str | list[str] | None:
        urls = [v] if isinstance(v, str) else (v or [])
        if isinstance(v, list) and not v:
            raise ValueError("give at least one URL")
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"not an http(s) URL: {url!r}")
        if len(set(urls)) != len(urls):
            raise ValueError("the same URL twice")
        return v

    @property
    def base_urls(self) -> list[str]:
        """Every server of this model (one for a single ``base_url``; empty: the provider's default)."""
        return [self.base_url] if isinstance(self.base_url, str) else list(self.base_url or [])

    @property
    def endpoint(self) -> str:
        """What the cache keys on: the server(s) answering (replicas of one model count as one)."""
        return " ".join(sorted(self.base_urls))

    def resolved_cache_path(self) -> Path | None:
        return Path(self.cache_path).expanduser() if self.cache_path else default_cache_path()

    def public(self) -> dict[str, object]:
        """What may be logged: never a key, only the name of the variable that holds it."""
        return self.model_dump(mode="json")
