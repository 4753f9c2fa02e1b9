"""Choosing brains from a config: ``brain`` (rule, llm, local, or shares of them) and ``model``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator
from simworld.agents.beliefs import TypedBelief
from simworld.agents.brains import RuleBrain
from simworld.agents.persona_text import PERSONA_PROMPTS, make_renderer
from simworld.agents.persona_variant import PersonaVariant
from simworld.memory import MemoryConfig

from simworld.config import check_shares
from simworld.errors import BadInput
from simworld.models.spec import ModelSpec
from simworld.models.wrappers import cache_path_problem
from simworld.scenario import ScenarioConfig

if TYPE_CHECKING:
    from simworld.world import World

BRAIN_KINDS = ("rule", "llm", "local")
LOCAL_MODEL = "SmolLM2-135M-Instruct"


def assign_shares(shares: str | dict[str, float], n: int, rng: np.random.Generator) -> list[str]:
    """Exact counts by largest remainder, then shuffled: {a: 0.5, b: 0.5} over n=5 gives 3 and 2."""
    if isinstance(shares, str):
        return [shares] * n
    names = list(shares)
    w = np.asarray([shares[k] for k in names], dtype=float)
    raw = w / w.sum() * n
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    out = [name for name, c in zip(names, counts) for _ in range(c)]
    return [out[i] for i in rng.permutation(n)]


class BrainSettings(ScenarioConfig):
    """Config fields every scenario with agents takes."""

    # (before brain: brain names are checked against these)
    models: dict[str, ModelSpec] = Field(
        default_factory=dict,
        description="more models by name, each usable as a brain kind (mixed models in one run: "
                    "brain: {big: 0.2, small: 0.8}); each gets its own gateway, cache key and manifest entry",
    )
    brain: str | dict[str, float] = Field(
        default="rule", description="rule, llm (the model below), local (the bundled small model), a name from "
                                    "models, or shares of them ({rule: 0.5, llm: 0.5})"
    )
    model: ModelSpec = Field(default_factory=ModelSpec)
    theory_of_mind: bool = Field(default=False, description="model brains update beliefs about others first")
    memory: MemoryConfig = Field(default_factory=MemoryConfig, description="each agent's memory")
    persona_prompt: str = Field(
        default="descriptive",
        description="what model brains are told about their persona: descriptive (traits in words), numeric "
                    "(scores), none (name only), or a template file (str.format fields, e.g. {name} {traits})",
    )
    persona: PersonaVariant = Field(
        default_factory=PersonaVariant,
        description="a change applied to every persona (a sweep's persona variants): empty: true for no persona, "
                    "set: {occupation: ..., favourite_colour: ...}; rule brains see only fields their policy reads",
    )

    persona_omit: list[str] = Field(
        default_factory=list,
        description="extra persona fields never shown to a model (e.g. a source file's run settings); "
                    "a template shows exactly the fields it names",
    )

    @field_validator("models")
    @classmethod
    def _model_names(cls, v: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
        for name in v:
            if name in BRAIN_KINDS or not name.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"{name!r} cannot name a model (letters, digits, - and _; not {BRAIN_KINDS})")
        return v

    @field_validator("brain")
    @classmethod
    def _known_brains(cls, v: str | dict[str, float], info: ValidationInfo) -> str | dict[str, float]:
        return check_shares(v, (*BRAIN_KINDS, *info.data.get("models", {})), "brain")

    def model_for(self, kind: str) -> ModelSpec:
        """The model spec of a brain kind (``llm``: ``model``; a name from ``models``: that one)."""
        return self.models.get(kind, self.model)


    def preflight(self, source: str, base_dir: Path | None = None) -> None:
        super().preflight(source, base_dir)
        if self.persona_prompt not in PERSONA_PROMPTS:  # a template file: read and check it now
            path = Path(self.persona_prompt).expanduser()
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            make_renderer(str(path))
            self.persona_prompt = str(path)  # the run uses (and logs) the file it checked
        uses_models = self.brain != "rule" or self.model.cache_path is not None
        specs = [("model", self.model)] if uses_models else []
        specs += [(f"models.{name}", spec) for name, spec in self.models.items()]
        for where, spec in specs:
            cache = spec.resolved_cache_path() if spec.cache != "off" else None
            problem = cache_path_problem(cache) if cache is not None else None
            if problem:
                raise BadInput(source, f"{cache}: {problem}", f"{where}.cache_path")


class BrainFactory:
    """Makes each agent's brain; model brains share one gateway per run (closed when the run ends)."""

    def __init__(self, world: World, settings: BrainSettings, belief_model: type[TypedBelief] | None = None) -> None:
        self.world = world
        self.settings = settings
        self.belief_model = belief_model
        self._gateways: dict[str, Any] = {}
        self._graphs: dict[str, Any] = {}

    def kinds(self, n: int) -> list[str]:
        return assign_shares(self.settings.brain, n, self.world.rng("brains"))

    def make(self, kind: str, policy: Any, policy_name: str) -> Any:
        if kind == "rule":
            return RuleBrain(policy, policy_name)
        from simworld.agents.model_brain import ModelBrain

        brain = ModelBrain(self.gateway(kind), fallback=policy, fallback_name=policy_name, name=kind,
                           theory_of_mind=self.settings.theory_of_mind, on_budget=self.settings.model.on_budget,
                           graph=self._graphs.get(kind), belief_model=self.belief_model)
        self._graphs[kind] = brain.graph  # compiled once, shared by every agent of this kind
        return brain

    def gateway(self, kind: str) -> Any:
        gw = self._gateways.get(kind)
        if gw is None:
            from simworld.models.gateway import Gateway

            spec = self.settings.model_for(kind)
            if kind == "local":
                # one generation at a time: waiting for the CPU must not count against the call's timeout
                spec = spec.model_copy(update={"provider": "local", "model": LOCAL_MODEL, "max_concurrency": 1})
            gw = Gateway(spec, self.world)
            self._gateways[kind] = gw

            def close(world: World, gw: Any = gw, kind: str = kind) -> None:
                world.manifest_extra.setdefault("models", {})[kind] = gw.summary()
                gw.close()

            self.world.on_close(close)
        return gw
