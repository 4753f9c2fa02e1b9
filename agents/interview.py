"""Interviews: ask agents theory-of-mind questions as they were at the time asked, rebuilt from the log alone.

A belief probe ("Where does Anne think Sally thinks the apple is?") goes to its chain's first member, in
the second person ("Where do you think Sally thinks the apple is?"). The agent is rebuilt from the run
log with the information boundary it had: its persona, its memory up to the probe's time
(:func:`simworld.memory.rebuild_memory`, without the facts and covert lists that only analysis sees), and
the beliefs it had logged by then.

- ``brain: rule`` is the perfect reasoner: it answers from the events the agent witnessed, seen as the
  agent saw them (only the witnesses it could see, its own misses left out), by the knowledge engine's
  rule. It is the upper bound: every answer it gives is the label.
- ``brain: llm`` or ``local`` asks a model through the gateway (cached like any call), constrained to the
  probe's choices: one repair round for an answer that is not one of them, then the failure is recorded.

Answers, with every prompt and response, go to the JSONL file the caller names (one
:class:`simworld.analysis.tom.Answer` per line); the run folder is never written to.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field
from simworld.agents.brain_config import LOCAL_MODEL
from simworld.agents.persona import Persona
from simworld.agents.persona_text import DescriptiveRenderer
from simworld.agents.prompts import PromptFormatter, extract_json, memory_line
from simworld.memory import MemoryStream, rebuild_memory

from simworld.errors import BadInput
from simworld.models.spec import ModelSpec
from simworld.models.types import ChatRequest, ModelError
from simworld.rng import stable_hash
from simworld.runlog import EVENTS, MANIFEST, METRICS, VOLATILE, RunLog, load_run
from simworld.tom import Answer, Knowledge, Probe, belief_question, is_correct

#: Data keys only analysis sees: perception never hands them to witnesses.
ANNOTATIONS = ("facts", "covert")


class InterviewConfig(BaseModel):
    """Who answers: ``brain`` (rule: the perfect reasoner; llm: ``model``; local: the bundled model)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    brain: Literal["rule", "llm", "local"] = "rule"
    model: ModelSpec = Field(default_factory=ModelSpec)
    memories: int = Field(default=40, ge=1, le=10_000, description="most memories a model is shown (retrieved)")


class _Perceived(RunLog):
    """The log as witnesses perceived it: facts and covert lists removed from every payload."""

    def iter_raw(self) -> Iterator[dict[str, Any]]:
        for e in super().iter_raw():
            d = e.get("data")
            if d and ("facts" in d or "covert" in d):
                e = {**e, "data": {k: v for k, v in d.items() if k not in ANNOTATIONS}}
            yield e


def own_view(log: RunLog, agent: str) -> list[dict[str, Any]]:
    """The events ``agent`` witnessed and took in, each with only the witnesses it could see (the open
    ones and itself) and, if it watched covertly, itself as the one covert witness."""
    missed: set[int] = set()
    for e in log.iter_raw():
        if e["kind"] == "agent.perceived" and e.get("agent") == agent:
            missed.update(e["data"].get("missed") or ())
    out = []
    for e in log.iter_raw():
        wit = e.get("witnesses") or ()
        if e["kind"] == "agent.joined":
            out.append(e)
            continue
        if agent not in wit or e["seq"] in missed:
            continue
        d = e.get("data") or {}
        covert = set(d.get("covert") or ())
        seen = [w for w in wit if w == agent or w not in covert]
        data = {k: v for k, v in d.items() if k != "covert"}
        if agent in covert:
            data["covert"] = [agent]
        out.append({**e, "witnesses": seen, "data": data})
    return out


@dataclass
class _Asked:
    """What a model brain is given for one probe."""

    probe: Probe
    messages: list[dict[str, str]]
    choices: list[Any]


def _choice_text(value: Any) -> str:
    return "null" if value is None else str(value)


class Interviewer:
    """Asks the belief probes of one run (see the module docstring)."""

    def __init__(self, log: RunLog | str | os.PathLike[str], config: InterviewConfig | None = None) -> None:
        self.log = log if isinstance(log, RunLog) else load_run(log)
        self.config = config or InterviewConfig()
        self.knowledge = Knowledge(self.log)
        self.formatter = PromptFormatter()
        self._views: dict[str, Knowledge] = {}
        self._memories: dict[tuple[str, float], MemoryStream] = {}
        self._perceived = _Perceived(self.log.path, self.log.manifest)

    # -- the perfect reasoner ----------------------------------------------------------------------
    def reason(self, probe: Probe) -> Any:
        """The answer the respondent can derive from its own observations (the upper bound)."""
        who = probe.chain[0]
        view = self._views.get(who)
        if view is None:
            try:
                view = Knowledge(own_view(self.log, who), source=f"{who}'s view")
            except BadInput:  # it witnessed nothing at all
                return None
            self._views[who] = view
        if probe.fact not in view.facts:
            return None
        return view.belief(probe.chain, probe.fact, probe.t)

    # -- model brains -----------------------------------------------------------------------------
    def memory(self, agent: str, t: float) -> MemoryStream:
        key = (agent, t)
        got = self._memories.get(key)
        if got is None:
            got = self._memories[key] = rebuild_memory(self._perceived, agent, t)
        return got

    def prompt(self, probe: Probe) -> _Asked:
        """The messages a model brain gets: the persona, what it remembers and believes at the probe's
        time, the question in the second person, and the choices."""
        who = probe.chain[0]
        logged = self.knowledge.persona_texts.get(who)  # what the agent was told in the run, if it was a model
        persona_text = logged or DescriptiveRenderer().render(Persona.model_validate(self.knowledge.personas[who]))
        question = belief_question(probe.chain, probe.fact, self.knowledge, you=True)
        memory = self.memory(who, probe.t)
        found = memory.retrieve(question, k=self.config.memories, now=probe.t)
        remembered = sorted((m.record for m in found), key=lambda r: (r.t, r.seq if r.seq is not None else -1))
        beliefs = self.beliefs(who, probe.t)
        choices = list(probe.choices)
        listed = ", ".join(_choice_text(c) for c in choices)
        parts = []
        if remembered:
            parts.append("What you remember:\n" + "\n".join(f"- {memory_line(m)}" for m in remembered))
        if beliefs:
            parts.append("What you believe:\n" + "\n".join(f"- {b}" for b in beliefs))
        parts.append(f"Question: {question}\nChoices: {listed}\n"
                     'Answer with only a JSON object: {"answer": <one of the choices, exactly as written>}')
        messages = [{"role": "system", "content": self.formatter.system(persona_text)},
                    {"role": "user", "content": "\n\n".join(parts)}]
        return _Asked(probe, messages, choices)

    def beliefs(self, agent: str, t: float) -> list[str]:
        """The agent's logged beliefs at ``t`` (the latest per subject and key), as lines."""
        latest: dict[tuple[str, str], str] = {}
        for e in self.log.iter_raw():
            if e["t"] > t:
                break
            if e["kind"] == "belief.updated" and e.get("agent") == agent:
                d = e["data"]
                latest[(d["about"], d["key"])] = f"{d['about']}: {d['key']} = {d['value']}"
        return list(latest.values())

    def spec(self) -> ModelSpec:
        spec = self.config.model
        if self.config.brain == "local":
            spec = spec.model_copy(update={"provider": "local", "model": LOCAL_MODEL, "max_concurrency": 1})
        return spec

    def ask_models(self, asked: Sequence[_Asked], story: str | None) -> list[Answer]:
        from simworld.models.gateway import Gateway

        gateway = Gateway(self.spec(), world=None)

        async def ask_all() -> list[Answer]:
            return list(await asyncio.gather(*(self._ask(gateway, a, story) for a in asked)))

        try:
            return gateway.run(ask_all())
        finally:
            gateway.close()

    async def _ask(self, gateway: Any, asked: _Asked, story: str | None) -> Answer:
        probe = asked.probe
        choices = [_choice_text(c) for c in asked.choices]
        schema = {"type": "object", "properties": {"answer": {"enum": choices}}, "required": ["answer"]}
        messages = asked.messages
        calls: list[dict[str, Any]] = []
        seed = stable_hash(probe.id) & 0x7FFFFFFF
        problem = "no answer"
        for attempt in range(2):
            node = "interview" if attempt == 0 else "repair"
            record: dict[str, Any] = {"node": node, "messages": messages, "response": None, "error": None}
            calls.append(record)
            try:
                response = await gateway.call(ChatRequest(messages, schema, seed + attempt), probe.chain[0], node)
            except ModelError as err:
                record["error"] = str(err)
                return self._answer(probe, None, f"model error: {err}", story, calls)
            record.update(response=response.text, input_tokens=response.input_tokens,
                          output_tokens=response.output_tokens)
            try:
                said = extract_json(response.text).get("answer")
            except (ValueError, AttributeError):
                said, problem = None, "not a JSON object with an answer"
            else:
                if isinstance(said, str) and said in choices:
                    return self._answer(probe, asked.choices[choices.index(said)], None, story, calls)
                problem = f"{said!r} is not one of the choices"
            messages = self.formatter.repair(messages, response.text, f"{problem}; choose one of: {', '.join(choices)}")
        return self._answer(probe, None, f"invalid answer after repair: {problem}", story, calls)

    def _answer(self, probe: Probe, said: Any, failure: str | None, story: str | None,
                calls: list[dict[str, Any]]) -> Answer:
        return Answer(probe=probe, respondent=probe.chain[0], brain=self.config.brain,
                      answer=said, correct=failure is None and is_correct(probe, said), failure=failure, story=story,
                      calls=calls)

    # -- all together ------------------------------------------------------------------------------
    def interview(self, probes: Iterable[Probe], story: str | None = None) -> list[Answer]:
        """Answers to the belief probes among ``probes`` (the others have nobody to ask), in order."""
        asked = [p for p in probes if p.respondent is not None]
        if self.config.brain == "rule":
            out = []
            for p in asked:
                said = self.reason(p)
                failure = "the agent does not know" if said is None else None
                out.append(Answer(probe=p, respondent=p.respondent, brain="rule", answer=said,
                                  correct=failure is None and is_correct(p, said), failure=failure, story=story))
            return out
        return self.ask_models([self.prompt(p) for p in asked], story)


def check_out(out: str | os.PathLike[str], run: Path) -> Path:
    """The answers file, refused where it would overwrite a file of the run folder."""
    path = Path(out)
    if path.resolve().parent == run.resolve() and path.name in (EVENTS, MANIFEST, METRICS, VOLATILE):
        raise BadInput(str(path), "is part of the run folder; write answers to a file of your own")
    if path.exists() and path.is_dir():
        raise BadInput(str(path), "is a folder; name a file for the answers")
    return path


def write_answers(answers: Iterable[Answer], out: str | os.PathLike[str]) -> int:
    """Write answers as JSONL (one :class:`Answer` per line); returns how many."""
    n = 0
    path = Path(out)
    try:
        with path.open("wb") as fh:
            for a in answers:
                fh.write(orjson.dumps(a.model_dump(mode="json")) + b"\n")
                n += 1
    except OSError as err:
        raise BadInput(str(path), f"cannot write the answers ({err.strerror or err})") from None
    return n


def read_answers(path: str | os.PathLike[str]) -> list[Answer]:
    """Answers written by :func:`write_answers` (or any tool writing the same lines)."""
    p = Path(path)
    out = []
    try:
        lines = p.read_bytes().splitlines()
    except OSError as err:
        raise BadInput(str(p), f"cannot read ({err.strerror or err})") from None
    for i, line in enumerate(lines, 1):
        if line.strip():
            try:
                out.append(Answer.model_validate(orjson.loads(line)))
            except (orjson.JSONDecodeError, ValueError) as err:
                raise BadInput(str(p), f"not an answer ({str(err).splitlines()[0]})", f"line {i}") from None
    return out


def interview(
    log: RunLog | str | os.PathLike[str],
    probes: Iterable[Probe],
    out: str | os.PathLike[str],
    config: InterviewConfig | Mapping[str, Any] | None = None,
) -> list[Answer]:
    """Ask the run's agents ``probes`` (the belief ones) and write the answers to ``out``."""
    run = log if isinstance(log, RunLog) else load_run(log)
    path = check_out(out, run.path)
    cfg = config if isinstance(config, InterviewConfig) or config is None else InterviewConfig.model_validate(config)
    answers = Interviewer(run, cfg).interview(probes, story=str(run.manifest.get("run_id") or run.path.name))
    write_answers(answers, path)
    return answers
