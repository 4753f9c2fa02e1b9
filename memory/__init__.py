"""Agent memory. Until the memory stream lands, :class:`ListMemory` keeps every observation in order."""

from simworld.memory.simple import ListMemory, MemoryLike

__all__ = ["ListMemory", "MemoryLike"]
