"""Which scenario panel a run uses, and where its script is.

A panel is one JavaScript file that calls ``simworld.registerPanel(name, {...})`` (see
``static/panels/auction.js``). The viewer finds it, in this order:

1. ``simworld replay RUN --panel FILE.js``;
2. a built-in panel (``simworld/viewer/static/panels/<name>.js``);
3. ``<name>.panel.js`` next to the scenario's Python file (for a scenario run from a ``.py`` file or an
   installed plugin), where ``<name>`` is the scenario's ``panel`` attribute; for a ``.py`` scenario whose
   run does not record its panel name, the one ``*.panel.js`` file beside it.

The panel name comes from the manifest (``panel``) when the run recorded it, else from the scenario
class (built-ins and installed plugins only: the viewer never imports a ``.py`` file a run names).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"
_SUFFIX = ".panel.js"


@dataclass(frozen=True)
class PanelInfo:
    name: str | None
    script: Path | None


def _registered_class(ref: str) -> type | None:
    try:
        from simworld import registry

        return registry.resolve(ref) if ref in registry.names() else None
    except Exception:  # noqa: BLE001 - a broken plugin must not stop the viewer
        return None


def _stem(path: Path) -> str:
    name = path.name
    return name[: -len(_SUFFIX)] if name.endswith(_SUFFIX) else path.stem


def resolve_panel(manifest: dict[str, Any], override: Path | None = None) -> PanelInfo:
    """The panel of a run described by ``manifest`` (``override``: a ``--panel FILE.js``)."""
    name = manifest.get("panel") if isinstance(manifest.get("panel"), str) else None
    ref = manifest.get("scenario_ref") or manifest.get("scenario")
    ref = ref if isinstance(ref, str) else None
    folder: Path | None = None
    cls = _registered_class(ref) if ref else None
    if cls is not None:
        name = name or getattr(cls, "panel", None)
        try:
            folder = Path(inspect.getfile(cls)).parent
        except (TypeError, OSError):
            folder = None
    elif ref and ref.split(":")[0].endswith(".py"):
        folder = Path(ref.split(":")[0]).parent
    if override is not None:
        return PanelInfo(name or _stem(override), override)
    if name:
        builtin = STATIC / "panels" / f"{name}.js"
        if builtin.is_file():
            return PanelInfo(name, builtin)
        if folder is not None and (folder / f"{name}{_SUFFIX}").is_file():
            return PanelInfo(name, folder / f"{name}{_SUFFIX}")
        return PanelInfo(name, None)
    if folder is not None and folder.is_dir() and cls is None:
        found = sorted(folder.glob(f"*{_SUFFIX}"))
        if len(found) == 1:
            return PanelInfo(_stem(found[0]), found[0])
    return PanelInfo(None, None)
