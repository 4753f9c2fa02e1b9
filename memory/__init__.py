"""Agent memory: the memory stream, retrieval scoring, reflection, vector stores and embedders.

``MemorySystem(config).bind(world)`` builds each agent's :class:`MemoryStream`; ``rebuild_memory`` reads
one back from a run log. Heavy dependencies (torch, sentence-transformers, chromadb) are imported only by
the classes that need them, when they are first used.
"""

from simworld.memory.chroma import ChromaStore
from simworld.memory.config import (
    CapacityConfig,
    ImportanceConfig,
    MemoryConfig,
    MemoryRole,
    ReflectionConfig,
    ScoringWeights,
)
from simworld.memory.embedders import Embedder, HashingEmbedder, SentenceTransformerEmbedder, make_embedder
from simworld.memory.importance import ImportanceScorer, RuleImportance
from simworld.memory.rebuild import rebuild_memory
from simworld.memory.records import MemoryRecord, Retrieved
from simworld.memory.reflection import Reflection, Reflector, RuleReflector, Window
from simworld.memory.services import MemoryServices
from simworld.memory.simple import ListMemory, Memory, MemoryLike
from simworld.memory.stores import Hits, NumpyStore, VectorStore
from simworld.memory.stream import MemoryStream
from simworld.memory.system import MemorySystem
from simworld.memory.text import describe_event

__all__ = [
    "CapacityConfig",
    "ChromaStore",
    "Embedder",
    "HashingEmbedder",
    "Hits",
    "ImportanceConfig",
    "ImportanceScorer",
    "ListMemory",
    "Memory",
    "MemoryConfig",
    "MemoryLike",
    "MemoryRecord",
    "MemoryRole",
    "MemoryServices",
    "MemoryStream",
    "MemorySystem",
    "NumpyStore",
    "Reflection",
    "ReflectionConfig",
    "Reflector",
    "Retrieved",
    "RuleImportance",
    "RuleReflector",
    "ScoringWeights",
    "SentenceTransformerEmbedder",
    "VectorStore",
    "Window",
    "describe_event",
    "make_embedder",
    "rebuild_memory",
]
