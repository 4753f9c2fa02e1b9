"""Finding scenarios: built-ins by name, installed plugins, or a user's Python file."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import traceback
from contextvars import ContextVar
from importlib import metadata
from pathlib import Path

from simworld.errors import BadInput
from simworld.rng import stable_hash
from simworld.scenario import Scenario

#: Built-in scenarios, imported only when asked for.
BUILTIN: dict[str, str] = {
    "auction": "simworld.scenarios.auction:AuctionScenario",
    "recommender": "simworld.scenarios.recommender:RecommenderScenario",
    "debate": "simworld.scenarios.debate:DebateScenario",
    "support": "simworld.scenarios.support:SupportScenario",
    "tom_rooms": "simworld.scenarios.tom_rooms:TomRoomsScenario",
}

ENTRY_POINT_GROUP = "simworld.scenarios"

#: The scenario file being imported right now (a run started while importing it is refused).
_importing: ContextVar[str | None] = ContextVar("simworld_importing_scenario_file", default=None)


def refuse_runs_while_importing() -> None:
    """Called by ``sw.run``: importing a scenario file (for ``simworld run``, ``validate`` or ``analyze
    --scenario``) must never start a run as a side effect of a module-level ``sw.run(...)`` call."""
    path = _importing.get()
    if path is not None:
        raise BadInput(path, "starts a run when it is imported; put the sw.run(...) call under "
                             "`if __name__ == \"__main__\":`")


def _import(target: str) -> type[Scenario]:
    module, _, attr = target.partition(":")
    return _scenario_class(getattr(importlib.import_module(module), attr), target)


def _scenario_class(obj: object, where: str) -> type[Scenario]:
    if not (inspect.isclass(obj) and issubclass(obj, Scenario)):
        raise BadInput(where, "is not a simworld.Scenario subclass")
    return obj


def _plugins() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def names() -> list[str]:
    return sorted(set(BUILTIN) | set(_plugins()))


def available() -> dict[str, type[Scenario]]:
    """Every scenario that ``simworld list`` shows, by name."""
    out: dict[str, type[Scenario]] = {}
    plugins = _plugins()
    for name in names():
        out[name] = _import(BUILTIN[name]) if name in BUILTIN else _scenario_class(plugins[name].load(), name)
    return out


def is_registered(cls: type[Scenario]) -> bool:
    """True when ``cls`` can be found again by its name (a built-in or an installed plugin)."""
    if cls.name in BUILTIN:
        return f"{cls.__module__}:{cls.__qualname__}" == BUILTIN[cls.name] or _import(BUILTIN[cls.name]) is cls
    return cls.name in _plugins()


def load_file(path: str | Path) -> type[Scenario]:
    """The scenario class defined in a Python file (``file.py`` or ``file.py:ClassName``)."""
    text = str(path)
    cls_name = None
    if ":" in Path(text).name:
        text, cls_name = text.rsplit(":", 1)
    p = Path(text)
    if not p.exists():
        raise BadInput(str(p), "no such file")
    mod_name = f"simworld_user_{stable_hash(str(p.resolve())):x}"
    spec = importlib.util.spec_from_file_location(mod_name, p)
    if spec is None or spec.loader is None:
        raise BadInput(str(p), "cannot import this file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    token = _importing.set(str(p))
    try:
        spec.loader.exec_module(module)
    except BadInput:
        sys.modules.pop(mod_name, None)
        raise
    except SyntaxError as err:
        sys.modules.pop(mod_name, None)
        raise BadInput(str(p), f"syntax error: {err.msg}", f"line {err.lineno}") from None
    except Exception as err:  # noqa: BLE001 - the user's file failed at import: say where, in one line
        sys.modules.pop(mod_name, None)
        frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename).resolve() == p.resolve()]
        where = f"line {frames[-1].lineno}" if frames else None
        raise BadInput(str(p), f"failed to import: {type(err).__name__}: {err}", where) from None
    finally:
        _importing.reset(token)
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Scenario) and obj is not Scenario and obj.__module__ == mod_name
    ]
    if cls_name is not None:
        found = [c for c in found if c.__name__ == cls_name]
        if not found:
            raise BadInput(str(p), f"no Scenario subclass named {cls_name!r}")
    if not found:
        raise BadInput(str(p), "defines no subclass of simworld.Scenario")
    if len(found) > 1:
        listed = ", ".join(c.__name__ for c in found)
        raise BadInput(str(p), f"defines several scenarios ({listed}); pass {p}:ClassName")
    cls = found[0]
    if not cls.name:
        cls.name = cls.__name__
    return cls


def resolve(spec: str | type[Scenario]) -> type[Scenario]:
    """A scenario class from a name, a ``.py`` path, or the class itself."""
    if inspect.isclass(spec) and issubclass(spec, Scenario):
        return spec
    spec = str(spec)
    if spec in BUILTIN:
        return _import(BUILTIN[spec])
    plugins = _plugins()
    if spec in plugins:
        return _scenario_class(plugins[spec].load(), spec)
    if spec.split(":")[0].endswith(".py"):
        return load_file(spec)
    raise BadInput(spec, f"unknown scenario (known: {', '.join(names())}; or give a .py or .yaml file)")
