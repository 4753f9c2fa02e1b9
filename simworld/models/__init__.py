"""The model gateway: any chat model behind one small async interface, with composable wrappers
(concurrency, retries, timeouts, accounting, budget, record/replay cache) and ``model.call`` logging.

Nothing heavy is imported here; LangChain and transformers load only when a client is built.
"""

from simworld.models.spec import ModelSpec
from simworld.models.types import BudgetExceeded, CacheMiss, ChatClient, ChatRequest, ChatResponse, ModelError

__all__ = ["BudgetExceeded", "CacheMiss", "ChatClient", "ChatRequest", "ChatResponse", "ModelError", "ModelSpec"]
