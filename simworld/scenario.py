"""The base class every scenario (built-in or user-written) subclasses."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Any, ClassVar, Union, get_args, get_origin, overload

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from simworld.events import EventTypes, Payload
from simworld.files import DataFile

if TYPE_CHECKING:
    from simworld.runlog import RunLog
    from simworld.world import World


def _wants_int(annotation: Any) -> bool:
    """An ``int`` field (or ``int | None``), where a YAML true/false must not pass as 1/0."""
    if annotation is int:
        return True
    args = get_args(annotation)
    return get_origin(annotation) in (Union, UnionType) and int in args and not ({bool, float, str} & set(args))


class ScenarioConfig(BaseModel):
    """Base for scenario configs: unknown keys are errors, so a typo never passes silently; a boolean
    is not a number (``n_bidders: true`` is refused, not read as 1)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bools_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            if _wants_int(annotation) or annotation is float:
                raise ValueError("Input should be a number, not true or false")
        return value

    def preflight(self, source: str, base_dir: Path | None = None) -> None:
        """Check what the config points at outside itself (a cache file, a template) before anything is
        written; raise :class:`simworld.errors.BadInput` naming ``source`` (the config file or flag).
        Relative paths are relative to ``base_dir`` (the config file's folder)."""


class Scenario:
    """A discrete-event environment.

    Subclasses set ``name``, ``description``, ``Config`` (a :class:`ScenarioConfig`) and ``events`` (the
    payload models of the event kinds they emit), then implement ``setup(world)`` (create agents),
    ``processes(world)`` (the simpy process generators that drive the world) and ``metrics(log)``
    (summary figures computed from the run log alone, so that they can be recomputed later).

    The kernel owns the life cycle: ``check()`` runs first, before anything is written, loads and
    validates every input the config names and returns what ``setup`` needs; the kernel keeps it as
    ``self.inputs``. ``progress`` lets the progress bar show something better than simulated time.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Config: ClassVar[type[ScenarioConfig]] = ScenarioConfig
    #: The payload models of this scenario's own event kinds (the core kinds are always known).
    events: ClassVar[tuple[type[Payload], ...]] = ()
    #: The viewer panel this scenario's runs use (None: only the generic views).
    panel: ClassVar[str | None] = None

    def __init__(self, config: ScenarioConfig | None = None, base_dir: Path | None = None) -> None:
        self.config = config if config is not None else self.Config()
        #: Relative paths in the config are resolved against this folder (the config file's).
        self.base_dir = base_dir or Path.cwd()
        #: What ``check`` returned (set by :meth:`load_inputs`).
        self.inputs: Any = None
        self._checked = False

    @overload
    def resolve_path(self, p: DataFile) -> DataFile: ...

    @overload
    def resolve_path(self, p: str | Path) -> Path: ...

    def resolve_path(self, p: str | Path | DataFile) -> Path | DataFile:
        """A path (or :class:`~simworld.files.DataFile`) from the config, relative to the config's folder."""
        if isinstance(p, DataFile):
            return p.under(self.base_dir)
        p = Path(p).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def check(self) -> Any:
        """Load and validate every input (files the config names) before anything is written, and
        return what ``setup`` needs (available there as ``self.inputs``).

        Raise :class:`simworld.errors.BadInput` for problems the user can fix."""
        return None

    def load_inputs(self) -> None:
        """Run ``check`` once (the kernel calls this before the run directory exists)."""
        if not self._checked:
            self.inputs = self.check()
            self._checked = True

    @classmethod
    def event_types(cls) -> EventTypes:
        """The payload models of every kind this scenario's runs may log. A scenario that declares its
        events must declare all of them (an undeclared kind is then an error when events are checked);
        one that declares none has only the core kinds checked."""
        return EventTypes(cls.events, strict=bool(cls.events))

    def setup(self, world: World) -> None:
        """Create the agents and whatever state the processes share."""

    def processes(self, world: World) -> Iterable[Generator[Any, Any, Any]]:
        """The simpy processes that drive the world."""
        return ()

    def metrics(self, log: RunLog) -> dict[str, Any]:
        """Summary metrics from the run log alone."""
        return {}

    def progress(self, world: World) -> tuple[float, float] | None:
        """(done, total) in the scenario's own units, or None to show simulated time only."""
        return None

    @classmethod
    def summary(cls) -> str:
        if cls.description:
            return cls.description
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""
