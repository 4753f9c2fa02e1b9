"""The replay viewer: ``simworld replay RUN_DIR`` serves a web page to replay and inspect a logged run.

``serve(run_dir)`` builds the run's event index and binds a read-only HTTP server (127.0.0.1, stdlib
``http.server``); ``export_html(run_dir, out)`` writes a self-contained page for a small run. The page is
plain HTML, CSS and JavaScript under ``static/`` (no build step, nothing fetched from elsewhere). A
scenario adds its own panel with one script: see :mod:`simworld.viewer.panels`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simworld.viewer.export import export_html
    from simworld.viewer.index import Query, RunIndex
    from simworld.viewer.run import RunView
    from simworld.viewer.server import ReplayServer, serve

_EXPORTS = {
    "serve": "simworld.viewer.server",
    "ReplayServer": "simworld.viewer.server",
    "RunView": "simworld.viewer.run",
    "RunIndex": "simworld.viewer.index",
    "Query": "simworld.viewer.index",
    "export_html": "simworld.viewer.export",
}
__all__ = ["Query", "ReplayServer", "RunIndex", "RunView", "export_html", "serve"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'simworld.viewer' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)
