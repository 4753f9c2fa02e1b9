"""What model brains are told about their persona: rendered once, logged, no trait scores by default; and
model nodes that get garbage say so in the log."""

from __future__ import annotations

import json
import re

import pytest
from openai_server import ScriptedServer, auction_responder
from quote_scenario import Quote, answer
from simworld.agents import Persona
from simworld.agents.persona_text import (
    DescriptiveRenderer,
    NameOnlyRenderer,
    NumericRenderer,
    TemplateRenderer,
    graded,
)

import simworld as sw

SCORE = re.compile(r"\b[OCEAN]?0\.\d\d\b")  # a trait score such as "O0.64" or "0.64"


def model(url: str, tmp_path, **extra: object) -> dict[str, object]:
    return {"brain": "llm", "model": {"base_url": url, "model": "scripted", "api_key_env": None,
                                      "cache_path": str(tmp_path / "cache.sqlite"), **extra}}


def test_graded_levels_follow_the_score_from_one_pole_to_the_other():
    phrases = [graded(x, "quiet", "talkative") for x in (0.05, 0.2, 0.4, 0.5, 0.6, 0.8, 0.95)]
    assert phrases == ["extremely quiet", "very quiet", "a bit quiet", "neither quiet nor talkative",
                       "a bit talkative", "very talkative", "extremely talkative"]


def test_the_descriptive_text_describes_traits_in_words_and_keeps_extra_fields():
    p = Persona.model_validate({"id": "ann", "name": "Ann", "big_five": {"extraversion": 0.95, "neuroticism": 0.05},
                                "demographics": {"age": 41, "occupation": "engineer"}, "favourite_colour": "teal"})
    text = DescriptiveRenderer().render(p)
    assert "extremely outgoing" in text and "extremely calm" in text and "an engineer" in text
    assert "favourite colour: teal" in text
    assert not SCORE.search(text)
    assert "E0.95" in NumericRenderer().render(p)
    assert NameOnlyRenderer().render(p) == "You are Ann."


def test_a_template_renders_the_fields_it_names_and_refuses_unknown_ones():
    p = Persona.model_validate({"id": "ann", "name": "Ann", "demographics": {"age": 41}, "hobby": "chess"})
    text = TemplateRenderer("{name} ({demographics.age}) plays {extra.hobby}; {traits}").render(p)
    assert text.startswith("Ann (41) plays chess; neither")
    with pytest.raises(sw.BadInput, match="unknown field"):
        TemplateRenderer("{nmae} is here")


def test_every_model_agent_is_told_its_persona_in_words_and_the_log_shows_it(tmp_path):
    with ScriptedServer(responder=answer(2.0)) as srv:
        res = sw.run(Quote, seed=3, out=tmp_path, overrides={**model(srv.base_url, tmp_path), "n": 3})
        prompts = [m[0]["content"] for m in srv.prompts]
    log = sw.load_run(res.path)
    told = {e.agent: e.data["persona_text"] for e in log.events(kind="agent.joined")}
    assert len(told) == 3 and all(t.startswith("You are Q") and "In character you are" in t for t in told.values())
    assert all(not SCORE.search(p) for p in prompts)  # no trait score in any prompt
    assert sorted(p.split("\n")[0] for p in prompts) == sorted(t.split("\n")[0] for t in told.values())


def test_rule_agents_are_told_nothing_so_nothing_is_logged(tmp_path):
    res = sw.run("auction", seed=1, out=tmp_path, overrides={"n_items": 1})
    assert all("persona_text" not in e.data for e in sw.load_run(res.path).events(kind="agent.joined"))


@pytest.mark.parametrize("choice, expect", [("numeric", "Big Five O"), ("none", None)])
def test_persona_prompt_picks_the_rendering(tmp_path, choice, expect):
    with ScriptedServer(responder=answer(2.0)) as srv:
        res = sw.run(Quote, seed=3, out=tmp_path, overrides={**model(srv.base_url, tmp_path), "persona_prompt": choice})
    texts = [e.data["persona_text"] for e in sw.load_run(res.path).events(kind="agent.joined")]
    assert all((expect in t) if expect else t.count("\n") == 0 for t in texts)


def test_a_bad_template_file_is_refused_before_the_run(cli_inproc, write, tmp_path):
    write("t.txt", "You are {name}, who likes {extra.colour} and {nonsense}.")
    config = write("c.yaml", "scenario: auction\nbrain: llm\npersona_prompt: t.txt\n")
    res = cli_inproc("run", config, "--out", tmp_path / "runs")
    assert res.returncode == 2 and "t.txt" in res.stderr and "{nonsense}" in res.stderr
    assert not (tmp_path / "runs").exists()


def test_a_theory_of_mind_node_answering_garbage_is_logged_never_silent(tmp_path):
    def garbage_for_tom(messages):  # sensible decisions, nonsense for the theory-of-mind node
        if '"beliefs"' in messages[-1]["content"]:
            return "I think they are nice people."
        return auction_responder(messages)

    with ScriptedServer(responder=garbage_for_tom) as srv:  # unconstrained: a constrained server cannot answer prose
        res = sw.run("auction", seed=5, out=tmp_path, overrides={
            "n_bidders": 3, "n_items": 2, "theory_of_mind": True,
            **model(srv.base_url, tmp_path, structured="prompt")})
    log = sw.load_run(res.path)
    tom_calls = [c for c in log.events(kind="model.call") if c.data["node"].startswith("theory_of_mind")]
    failed = list(log.events(kind="model.failed"))
    assert tom_calls and failed and all(f.data["node"] == "theory_of_mind" for f in failed)
    assert all("invalid output after repair" in f.data["reason"] for f in failed)
    assert any(c.data["node"] == "theory_of_mind.repair" for c in tom_calls)  # one repair round each
    assert log.manifest["models"]["llm"]["node_failures"] == {"theory_of_mind": len(failed)}


def test_a_private_context_key_never_reaches_a_prompt(tmp_path):
    from pydantic import BaseModel
    from simworld.agents.prompts import HiddenContext, PromptFormatter

    from simworld.decisions import DecisionRequest

    class Pick(BaseModel):
        n: int

    request = DecisionRequest("x.pick", Pick, {"visible": 1, "_secret": 2})
    with pytest.raises(HiddenContext, match="policy_hints"):
        PromptFormatter().decision("You are X.", [], [], request)
    shown = PromptFormatter().decision("You are X.", [], [], DecisionRequest("x.pick", Pick, {"visible": 1},
                                                                               policy_hints={"secret": 2}))
    assert "secret" not in json.dumps(shown)
