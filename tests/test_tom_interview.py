"""Interviews and scores: agents asked as they were, from the log alone; answers never touch the run folder."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from openai_server import ScriptedServer
from simworld.agents.interview import InterviewConfig, Interviewer, interview, read_answers
from simworld.analysis.tom import Answer, Knowledge, belief_scores, probes, score_answers
from simworld.scenarios.tom_rooms import TomRoomsScenario

import simworld as sw
from simworld.errors import BadInput

ROOMS = {"steps": 40, "n_agents": 4, "rooms": 2, "objects": 2, "population.attention": 2}


@pytest.fixture(scope="module")
def rooms_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rooms")
    return sw.run(TomRoomsScenario, seed=3, out=out, run_id="r", overrides=ROOMS).path


def digest(path):
    return hashlib.sha256((path / "events.jsonl").read_bytes()).hexdigest()


def test_the_rule_brain_is_the_perfect_reasoner_every_answer_is_the_label(tmp_path):
    """Over 4 seeds with watchers, tells, lies and attention misses, the agent's own observations
    (only the witnesses it could see, its own misses left out) give every belief label, orders 1-4."""
    for seed in range(4):
        path = sw.run(TomRoomsScenario, seed=seed, out=tmp_path, overrides=ROOMS).path
        asked = probes(path, orders=(1, 2, 3, 4), balanced=False)
        answers = interview(path, asked, tmp_path / f"answers{seed}.jsonl")
        assert len(answers) == sum(p.kind == "belief" for p in asked) > 0
        assert all(a.correct and a.brain == "rule" for a in answers)
        assert score_answers(answers)["accuracy"]["accuracy"] == 1.0


def test_answers_go_to_the_named_file_never_into_the_run_folder(rooms_run, tmp_path):
    before = digest(rooms_run)
    asked = probes(rooms_run, orders=(1, 2))
    out = tmp_path / "answers.jsonl"
    answers = interview(rooms_run, asked, out)
    assert [a.probe.id for a in read_answers(out)] == [a.probe.id for a in answers]
    assert digest(rooms_run) == before
    assert sorted(p.name for p in rooms_run.iterdir()) == ["events.jsonl", "manifest.json", "metrics.json"]
    with pytest.raises(BadInput, match="part of the run folder"):
        interview(rooms_run, asked, rooms_run / "events.jsonl")


def answer_first_choice(messages):
    """Answers the first choice; order-3 questions get a wrong word first (then the repair is right),
    order-4 questions never get a valid answer."""
    user = messages[1]["content"]
    question = re.search(r"Question: (.*)", user).group(1)
    choices = re.search(r"Choices: (.*)", user).group(1).split(", ")
    order = question.count(" thinks ") + 1
    repairing = len(messages) > 2
    if order == 4 or (order == 3 and not repairing):
        return json.dumps({"answer": "the moon"})
    return json.dumps({"answer": choices[0]})


def test_a_model_is_asked_within_the_agents_information_boundary_and_repaired_once(rooms_run, tmp_path):
    asked = probes(rooms_run, orders=(1, 2, 3, 4), balanced=False)
    cfg = InterviewConfig(brain="llm", model={"base_url": None, "model": "scripted", "api_key_env": None,
                                              "cache_path": str(tmp_path / "cache.sqlite"),
                                              "structured": "prompt"})  # let the model err, to see the repair
    with ScriptedServer(answer_first_choice) as srv:
        cfg.model.base_url = srv.base_url
        answers = interview(rooms_run, asked, tmp_path / "a.jsonl", cfg)
        first = srv.requests
        again = interview(rooms_run, asked, tmp_path / "b.jsonl", cfg)
        assert srv.requests == first  # every call came from the cache
    assert [a.model_dump() for a in again] == [a.model_dump() for a in answers]
    by_order = {o: [a for a in answers if a.probe.order == o] for o in (1, 2, 3, 4)}
    assert all(by_order.values())
    assert all(a.failure is None and a.answer == a.probe.choices[0] for a in by_order[1] + by_order[2])
    assert all(a.failure is None and len(a.calls) == 2 for a in by_order[3])  # repaired
    assert all(a.failure and a.failure.startswith("invalid answer after repair") for a in by_order[4])
    assert all(a.correct == (a.failure is None and a.answer == a.probe.answer) for a in answers)
    # the boundary: no facts or covert lists, no move the respondent did not witness, the second person
    log = sw.load_run(rooms_run)
    missed = {(e.agent, s) for e in log.events(kind="agent.perceived") for s in e.data["missed"]}
    moves = list(log.events(kind="tom.moved"))
    for a in answers:
        prompt = a.calls[0]["messages"][1]["content"]
        assert "facts" not in prompt and "covert" not in prompt
        assert "Where do you think" in prompt
        for m in moves:
            if a.respondent not in m.witnesses or (a.respondent, m.seq) in missed:
                assert f"[t={m.t:.1f}] tom moved" not in prompt


def test_scores_count_failures_as_wrong_and_all_star_needs_every_question_of_a_fact(rooms_run):
    k = Knowledge(rooms_run)
    found = probes(k, orders=(1, 2), kinds=("belief",), balanced=False)
    fact = max(k.facts, key=lambda f: sum(p.fact == f for p in found))
    asked = [p for p in found if p.fact == fact]
    assert len(asked) >= 2
    right = [Answer(probe=p, respondent=p.respondent, answer=p.answer, correct=True) for p in asked]
    one_wrong = [*right[:-1], Answer(probe=asked[-1], respondent=asked[-1].respondent, failure="no answer")]
    assert score_answers(right)["all_star"]["accuracy"] == 1.0
    s = score_answers(one_wrong, k.personas, k.policies)
    assert s["all_star"]["accuracy"] == 0.0 and s["failed"] == 1
    assert s["accuracy"]["accuracy"] == pytest.approx((len(asked) - 1) / len(asked))
    assert set(s["by_trait"]) == {"openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"}
    assert set(s["by_strategy"]) == {"persona"}


def test_explicit_beliefs_are_scored_against_the_truth_the_log_holds(auction_run, rooms_run):
    """One function for every scenario: auction profilers' value estimates against the rivals' values
    (the same error the auction's own metrics report), tom_rooms agents' beliefs against the facts."""
    auction = belief_scores(auction_run)
    assert auction["by_key"]["value"]["n"] > 0
    assert auction["mae"] == pytest.approx(sw.load_run(auction_run).metrics["belief_mae"])
    assert set(auction["by_strategy"]) == {"profiler"}
    rooms = belief_scores(rooms_run, bins=4)
    assert rooms["n"] > 0 and rooms["unscored"] == 0
    assert 0.0 <= rooms["accuracy"] <= 1.0 and rooms["brier"] is not None
    assert sum(span["n"] for span in rooms["over_time"]) == rooms["n"]


@pytest.fixture
def tom_cli(cli_inproc):
    """The ``simworld tom`` command (registered here until the lead adds it to the CLI group)."""
    from simworld.cli import cli
    from simworld.cli_tom import tom

    if "tom" not in cli.commands:
        cli.add_command(tom)
    return cli_inproc


def test_the_command_line_shows_probes_beliefs_and_interviews(tom_cli, rooms_run, tmp_path):
    res = tom_cli("tom", rooms_run, "--orders", "1,2", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.out_lines[-1])
    assert set(report["probes"]) >= {"belief:1", "belief:2"} and report["beliefs"]["n"] > 0
    res = tom_cli("tom", rooms_run, "--ask", "--out", tmp_path / "ans.jsonl", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.out_lines[-1])["answers"]["accuracy"]["accuracy"] == 1.0
    one = tom_cli("tom", rooms_run, "--chain", "agent000,agent001", "--fact", "apple.container", "--json")
    assert json.loads(one.out_lines[-1])["reality"] == Knowledge(rooms_run).reality("apple.container")
    bench = tom_cli("tom", "generate", "--n", "3", "--orders", "1,2", "--out", tmp_path / "b.jsonl", "--json")
    assert bench.returncode == 0 and json.loads(bench.out_lines[-1])["stories"] == 3


@pytest.mark.parametrize(("args", "says"), [
    (("--orders", "1,5"), "order 5 is outside 0..4"),
    (("--fact", "pear.container"), "unknown fact 'pear.container'"),
    (("--chain", "agent000,zed", "--fact", "apple.container"), "unknown agent 'zed'"),
    (("--ask",), "--ask needs --out"),
])
def test_bad_input_is_one_line_and_exit_2(tom_cli, rooms_run, args, says):
    res = tom_cli("tom", rooms_run, *args)
    assert res.returncode == 2 and len(res.err_lines) == 1 and says in res.err_lines[0], res.stderr


def test_a_log_without_witnesses_is_refused(tom_cli, tmp_path):
    run = tmp_path / "bare"
    run.mkdir()
    (run / "manifest.json").write_text('{"run_id": "bare", "scenario": "x"}')
    (run / "events.jsonl").write_text('{"seq": 0, "t": 0.0, "kind": "a.b", "agent": null, "witnesses": [], '
                                      '"causes": [], "data": {"facts": {"a.b": 1}}}\n')
    res = tom_cli("tom", run)
    assert res.returncode == 2 and "no event has witnesses" in res.err_lines[0]


def test_the_interviewer_rebuilds_the_agent_at_the_time_asked(rooms_run):
    k = Knowledge(rooms_run)
    early = next(p for p in probes(k, orders=(1,), kinds=("belief",), at=(5.0,), balanced=False))
    asked = Interviewer(rooms_run, InterviewConfig()).prompt(early)
    times = [float(t) for t in re.findall(r"\[t=([0-9.]+)\]", asked.messages[1]["content"])]
    assert times and max(times) <= 5.0
