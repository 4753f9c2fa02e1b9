"""Which scenario panel a run uses, and where its script comes from.

A panel is one JavaScript file that calls ``simworld.registerPanel(name, {...})`` (see
``simworld/scenarios/auction/panel.js``). A scenario ships it as ``panel.js`` in its own package, found
with :mod:`importlib.resources` from the scenario class. A run folder is data: the viewer never serves or
loads a script because the run names it or carries it. The script is, in this order:

1. the file the user passes explicitly (``simworld replay RUN --panel FILE.js``);
2. the panel of the run's scenario, when the manifest names a built-in or installed (entry-point)
   scenario (``scenario_ref``, else ``scenario``);
3. the panel of the built-in or installed scenario whose panel name is the manifest's ``panel``;

and otherwise there is none: the page shows the generic views. A panel's name is the scenario class's
``panel`` attribute, else the scenario's name.
"""

from __future__ import annotations

import importlib.resources
import re
import sys
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from simworld.scenario import Scenario

STATIC = Path(__file__).parent / "static"
PANEL_FILE = "panel.js"
#: A panel name as the page shows it (and looks it up): anything else in a manifest is ignored.
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class PanelInfo:
    """The panel's name (what its script registers) and its script, if the run has one."""

    name: str | None
    script: Traversable | None

    def source(self) -> bytes | None:
        """The script's text (None when there is no script or it cannot be read)."""
        if self.script is None:
            return None
        try:
            return self.script.read_bytes()
        except OSError:
            return None


def panel_name(cls: type[Scenario]) -> str:
    return cls.panel or cls.name


def panel_script(cls: type[Scenario]) -> Traversable | None:
    """``panel.js`` in the package of the scenario class, if there is one."""
    module = sys.modules.get(cls.__module__)
    package = getattr(module, "__package__", None) or cls.__module__.rpartition(".")[0]
    if not package:
        return None
    try:
        script = importlib.resources.files(package) / PANEL_FILE
    except (ModuleNotFoundError, TypeError):
        return None
    return script if script.is_file() else None


def _registered(name: str) -> type[Scenario] | None:
    """The built-in or installed scenario called ``name`` (never a file: a manifest may name any path)."""
    from simworld import registry

    try:
        return registry.resolve(name) if name in registry.names() else None
    except Exception:  # noqa: BLE001 - a broken plugin must not stop the viewer
        return None


def _registered_panels() -> dict[str, type[Scenario]]:
    from simworld import registry

    out: dict[str, type[Scenario]] = {}
    for name in registry.names():
        cls = _registered(name)
        if cls is not None:
            out.setdefault(panel_name(cls), cls)
    return out


def resolve_panel(manifest: dict[str, Any], override: Path | None = None) -> PanelInfo:
    """The panel of a run described by ``manifest`` (``override``: the user's ``--panel FILE.js``)."""
    named = manifest.get("panel")
    named = named if isinstance(named, str) and _NAME.fullmatch(named) else None
    if override is not None:
        stem = override.name.removesuffix(".js").removesuffix(".panel")
        return PanelInfo(named or stem, override)
    ref = manifest.get("scenario_ref")
    if not isinstance(ref, str):
        ref = manifest.get("scenario")
    cls = _registered(ref) if isinstance(ref, str) else None
    if cls is None and named is not None:
        cls = _registered_panels().get(named)
    if cls is None:
        return PanelInfo(None, None)
    script = panel_script(cls)
    return PanelInfo(panel_name(cls) if script is not None else None, script)
