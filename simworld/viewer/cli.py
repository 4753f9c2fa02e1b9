"""What ``simworld replay`` does: check the run directory, then export a page or serve until Ctrl-C."""

from __future__ import annotations

import errno
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from simworld.errors import BadInput

if TYPE_CHECKING:
    from simworld.viewer.run import RunView
    from simworld.viewer.server import ReplayServer

DEFAULT_PORT = 8765


def check_run_dir(run_dir: str | Path) -> Path:
    path = Path(run_dir)
    if not path.is_dir():
        raise BadInput(str(path), "not a run directory (no such folder)")
    if not (path / "events.jsonl").is_file():
        raise BadInput(str(path), "not a run directory (no events.jsonl)")
    return path


def replay(
    run_dir: str | Path,
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = True,
    export: str | Path | None = None,
    panel: str | Path | None = None,
) -> None:
    path = check_run_dir(run_dir)
    panel_path = Path(panel) if panel else None
    if export:
        from simworld.viewer.export import export_html

        out = export_html(path, export, panel=panel_path)
        click.echo(str(out))
        return
    from simworld.viewer.run import RunView
    from simworld.viewer.server import _is_loopback

    start = time.perf_counter()
    view = RunView(path, panel=panel_path, cache=True)
    server = _bind(view, host, port)
    how = "index read from the cache" if view.index.cached else "indexed"
    click.echo(f"simworld replay: {view.index.n:,} events {how} in {time.perf_counter() - start:.2f} s", err=True)
    for warning in view.warnings:
        click.echo(f"simworld replay: warning: {warning}", err=True)
    if not _is_loopback(host):
        click.echo(f"simworld replay: serving on {host}: anyone who can reach it can read this run", err=True)
    click.echo(f"simworld replay: serving {path} at {server.url} (Ctrl-C to stop)", err=True)
    click.echo(server.url)
    sys.stdout.flush()
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("simworld replay: stopped", err=True)
    finally:
        server.server_close()


def _bind(view: RunView, host: str, port: int | None) -> ReplayServer:
    """Bind ``port``; with no port given, try 8765 and then any free port."""
    from simworld.viewer.server import ReplayServer

    tries = [port] if port is not None else [DEFAULT_PORT, 0]
    for i, p in enumerate(tries):
        try:
            return ReplayServer(view, host, p)
        except OSError as err:
            if err.errno == errno.EADDRINUSE and i + 1 < len(tries):
                continue
            what = "is in use" if err.errno == errno.EADDRINUSE else f"cannot be bound ({err.strerror})"
            raise BadInput(f"{host}:{p}", f"port {what}") from None
    raise AssertionError("unreachable")
