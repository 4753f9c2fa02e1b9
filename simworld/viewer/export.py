"""``simworld replay RUN --export FILE.html``: one self-contained page for a small run.

The page carries the viewer's CSS and scripts inline and, as JSON in a ``<script type="application/json">``
block (with every ``<`` escaped, so no log string can close it), what the replay server would answer from:
the events the run log's reader accepted (volatile fields merged, as the server sends them), the manifest,
metrics and warnings, each agent's missed perceptions from the index, each agent's memory view at
every cursor (:mod:`simworld.viewer.memory_view`), so that the page shows the same memory as the server,
and the change points of every belief about a fact (:mod:`simworld.viewer.knowledge_view`), so that its
knowledge view answers as the server's.
The browser only looks these up; a Content-Security-Policy allows only the inline scripts written here
(by hash).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import numpy as np

from simworld.errors import BadInput
from simworld.runlog import dumps
from simworld.viewer.knowledge_view import knowledge_timelines
from simworld.viewer.memory_view import memory_views
from simworld.viewer.panels import STATIC
from simworld.viewer.run import RunView

#: The largest events.jsonl that is exported; a bigger run is for ``simworld replay`` itself.
MAX_EXPORT_BYTES = 25 << 20
SCRIPTS = ["dom.js", "api.js", "timeline.js", "events.js", "knowledge.js", "agents.js", "metrics.js"]
_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _inline_js(source: str) -> str:
    # "</script" cannot occur in our scripts outside strings; inside a string "<\/" means the same.
    return _SCRIPT_END.sub(r"<\\/\1", source)


def page_body() -> str:
    """The markup of the viewer's body (shared with index.html, without its script tags)."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    start = html.index("<body>") + len("<body>")
    end = html.index("<!-- scripts")
    return html[start:end].strip()


def export_html(run_dir: str | Path, out: str | Path, panel: Path | None = None) -> Path:
    """Write the page for ``run_dir`` to ``out``; refuses runs over ``MAX_EXPORT_BYTES``."""
    run_dir = Path(run_dir)
    events = run_dir / "events.jsonl"
    size = events.stat().st_size if events.exists() else 0
    if size > MAX_EXPORT_BYTES:
        raise BadInput(
            str(events),
            f"too large to export as one page ({size / 2**20:.1f} MiB; the limit is {MAX_EXPORT_BYTES >> 20} MiB): "
            "use simworld replay",
        )
    view = RunView(run_dir, panel=panel, workers=1)
    meta = dict(view.meta())
    meta["files"] = []  # an exported page cannot link to the run directory
    meta["exported"] = True
    meta["panel_script"] = False  # inlined below
    idx = view.index
    agents = [a["id"] for a in meta["agents"]]
    data = (
        b'{"meta":' + dumps(meta) + b',"metrics":' + dumps(view.metrics())
        + b',"seq_is_row":' + dumps(idx.seq_is_row)
        + b',"missed":' + dumps({a: idx.missed_seqs(a) for a in agents})
        + b',"memory":' + dumps(memory_views(view))
        + b',"knowledge":' + dumps(knowledge_timelines(view))
        + b',"events":' + view.events_json(np.arange(idx.n)) + b"}"
    )
    data_text = data.decode("utf-8").replace("<", "\\u003c")
    scripts = [(STATIC / "js" / name).read_text(encoding="utf-8") for name in SCRIPTS]
    panel_source = view.panel.source()
    if panel_source is not None:
        scripts.append(panel_source.decode("utf-8", errors="replace"))
    scripts.append((STATIC / "js" / "app.js").read_text(encoding="utf-8"))
    scripts = [_inline_js(s) for s in scripts]
    css = (STATIC / "style.css").read_text(encoding="utf-8")
    csp = (
        "default-src 'none'; img-src data:; "
        f"script-src {' '.join(_sha256(s) for s in scripts)}; style-src {_sha256(css)}; "
        "base-uri 'none'; form-action 'none'"
    )
    title = f"simworld replay · {meta.get('run_id')}"
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_escape_text(title)}</title>",
        f"<style>{css}</style>",
        "</head>",
        "<body>",
        page_body(),
        f'<script type="application/json" id="simworld-data">{data_text}</script>',
        *(f"<script>{s}</script>" for s in scripts),
        "</body>",
        "</html>",
    ]
    out = Path(out)
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return out


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
