"""A cache of scanned columns, so that reopening a large run skips the scan.

Kept in the user's cache folder (``$SIMWORLD_CACHE_DIR``, else ``$XDG_CACHE_HOME/simworld/viewer``, else
``~/.cache/simworld/viewer``), never in the run directory, keyed by the log's real path, size, inode and
modification time: a log that changed in any way (a run still writing, a copy) is scanned again. Any
failure to read or write the cache only means scanning again. ``SIMWORLD_CACHE_DIR=off`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import fields
from pathlib import Path

import numpy as np

from simworld.viewer.scan import Columns

FORMAT = 2  # bump when Columns or the scan's meaning changes
ARRAYS = ("offsets", "lengths", "seq", "t", "kind", "agent", "wset")
MIN_BYTES = 8 << 20  # smaller logs scan faster than the cache pays for itself


def cache_dir() -> Path | None:
    env = os.environ.get("SIMWORLD_CACHE_DIR")
    if env is not None:
        return None if env.lower() in ("", "0", "off", "none") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "simworld" / "viewer"


def _key(events: Path) -> str | None:
    try:
        st = events.stat()
        ident = f"{FORMAT}|{events.resolve()}|{st.st_size}|{st.st_ino}|{st.st_mtime_ns}"
    except OSError:
        return None
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


def load(events: Path) -> Columns | None:
    """The cached columns of ``events``, or None."""
    folder, key = cache_dir(), _key(events)
    if folder is None or key is None:
        return None
    try:
        with np.load(folder / f"{key}.npz", allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in ARRAYS}
            rest = json.loads(bytes(npz["rest"]).decode("utf-8"))
        rest["wsets"] = [tuple(ws) for ws in rest["wsets"]]
        rest["problems"] = [tuple(p) for p in rest["problems"]]
        return Columns(**arrays, **rest)
    except (OSError, KeyError, ValueError, TypeError):
        return None


def save(events: Path, cols: Columns) -> None:
    """Store ``cols`` for ``events`` (quietly does nothing if it cannot)."""
    folder, key = cache_dir(), _key(events)
    if folder is None or key is None or cols.offsets.size == 0 and not cols.lines:
        return
    rest = {f.name: getattr(cols, f.name) for f in fields(cols) if f.name not in ARRAYS}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{key}.{os.getpid()}.tmp.npz"
        blob = np.frombuffer(json.dumps(rest).encode("utf-8"), np.uint8)
        np.savez(tmp, rest=blob, **{name: getattr(cols, name) for name in ARRAYS})
        os.replace(tmp, folder / f"{key}.npz")
    except (OSError, TypeError, ValueError):
        return
