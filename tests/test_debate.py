"""The debate scenario: known results of opinion dynamics, witness sets, moves, metrics, determinism, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from simworld.agents import generate_population
from simworld.agents.persona import BigFive, Persona
from simworld.agents.population import PopulationSpec
from simworld.analysis import analyze_run
from simworld.analysis.opinion import degroot_consensus, friedkin_johnsen_limit
from simworld.scenarios.debate import DebateConfig, DebateMove, DebateScenario, dynamics
from simworld.scenarios.debate.network import build_graph, influence_weights
from simworld.scenarios.debate.persuasion import argument_shift, receptivity
from simworld.scenarios.debate.scenario import population_ids

import simworld as sw
from simworld.errors import BadInput
from simworld.events import Payload
from simworld.runlog import load_run

SMALL = {"n_debaters": 2, "n_audience": 4, "rounds": 1}


def run(tmp_path, seed=1, **overrides):
    return sw.run("debate", seed=seed, out=tmp_path / "runs", overrides=overrides)


def network_of(path):
    log = load_run(path)
    net = next(iter(log.events(kind="debate.network"))).data
    finals: dict[str, float] = {}
    for e in log.events(kind="belief.updated"):
        if e.data["key"] == "opinion" and e.data["about"] == "p1":
            finals[e.agent] = e.data["value"]
    return net, np.array([finals[a] for a in net["nodes"]])


# -- known results ------------------------------------------------------------------------------
def test_degroot_update_converges_to_the_left_eigenvector_consensus():
    rng = np.random.default_rng(5)
    ids = [f"a{i}" for i in range(15)]
    personas = {a: Persona(id=a, name=a, big_five=BigFive(extraversion=float(rng.random()))) for a in ids}
    g = build_graph("scale_free", ids, rng, m=1)  # a tree: strongly connected, aperiodic only by self-weight
    W = influence_weights(g, ids, personas, self_weight=0.3, boost={"a0": 3.0})
    x0 = rng.uniform(-1, 1, len(ids))
    x = x0.copy()
    for _ in range(3000):
        x, _ = dynamics.degroot(W, x)
    assert np.abs(x - degroot_consensus(W, x0)).max() < 1e-6
    assert abs(degroot_consensus(W, x0) - x0.mean()) > 1e-3  # the weights matter: not the plain mean


def test_degroot_run_ends_at_the_consensus_recomputed_from_the_logged_network(tmp_path):
    res = run(tmp_path, update_rule="degroot", network_steps=150, rounds=2, n_audience=8)
    net, final = network_of(res.path)
    target = degroot_consensus(np.array(net["weights"]), np.array(net["initial"]["p1"]))
    assert np.abs(final - target).max() < 1e-6
    assert res.metrics["propositions"]["p1"]["consensus_time"] is not None


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_friedkin_johnsen_run_converges_to_its_closed_form_and_keeps_disagreement(tmp_path, seed):
    res = run(tmp_path, seed=seed, update_rule="friedkin_johnsen", network_steps=200, rounds=1, stubbornness=0.4)
    net, final = network_of(res.path)
    W, x0, s = np.array(net["weights"]), np.array(net["initial"]["p1"]), np.array(net["stubbornness"])
    expected = friedkin_johnsen_limit(W, x0, s)
    assert np.abs(final - expected).max() < 1e-6
    # Stubborn agents keep disagreement (no consensus) whatever the draw: at each seed the final variance
    # stays above 1e-4, far below what these populations keep (about 0.01 and up).
    assert np.var(final) > 1e-4


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_polarisation_left_by_the_rules_degroot_merges_fj_anchors_bounded_confidence_splits(tmp_path, seed):
    finals = {}
    for rule in ("degroot", "friedkin_johnsen", "hegselmann_krause"):
        m = run(tmp_path, seed=seed, update_rule=rule, network_steps=20, rounds=3, n_audience=16, epsilon=0.3).metrics
        finals[rule] = m["propositions"]["p1"]["polarisation"]["variance_final"]
    # Over seeds 0-5 the final variances are: DeGroot < 1e-6, Friedkin-Johnsen 0.04-0.08, HK (epsilon 0.3)
    # 0.20-0.30 from initial variances of 0.21-0.31; the bounds below leave a factor of 4 or more of slack.
    assert finals["degroot"] < 1e-3
    assert 0.01 < finals["friedkin_johnsen"] and finals["hegselmann_krause"] > 2 * finals["friedkin_johnsen"]


def _cluster_count(rule: str, eps: float, seed: int, n: int = 200) -> int:
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    A = np.ones((n, n))
    if rule == "hk":
        for _ in range(300):
            new, _ = dynamics.hegselmann_krause(A, x, eps)
            if np.abs(new - x).max() < 1e-12:
                break
            x = new
        return len(dynamics.clusters(x, 1e-3, 0.02))
    x, _ = dynamics.deffuant(x, dynamics.random_pairs(A, 30 * n * 4, rng), eps, 0.5)
    return len(dynamics.clusters(x, 0.01, 0.02))


@pytest.mark.parametrize("rule", ["hk", "deffuant"])
@pytest.mark.parametrize("eps", [0.05, 0.1, 0.15, 0.25])
def test_bounded_confidence_forms_about_one_over_two_epsilon_clusters(rule, eps):
    expected = 1 / (2 * eps)
    counts = [_cluster_count(rule, eps, seed) for seed in range(4)]
    for c in counts:
        assert 0.5 * expected <= c <= expected + 1.5, (counts, expected)


def test_hk_keeps_far_apart_groups_apart_and_merges_close_ones():
    x = np.array([0.0, 0.05, 0.1, 0.9, 0.95])
    new, C = dynamics.hegselmann_krause(np.ones((5, 5)), x, 0.2)
    assert new[:3] == pytest.approx([0.05] * 3) and new[3:] == pytest.approx([0.925] * 2)
    assert np.allclose(x + C.sum(axis=1), new)


# -- arguments ----------------------------------------------------------------------------------
def test_the_same_move_persuades_different_listeners_differently():
    open_mind = BigFive(openness=0.9, conscientiousness=0.8, agreeableness=0.5)
    closed = BigFive(openness=0.1, conscientiousness=0.2, agreeableness=0.5)
    assert receptivity("evidence", open_mind) > 2 * receptivity("evidence", closed)
    anxious = BigFive(neuroticism=0.9, agreeableness=0.8, conscientiousness=0.2)
    assert receptivity("appeal", anxious) > receptivity("appeal", open_mind)
    d_open = argument_shift("evidence", 0.8, open_mind, 0.0, 1.0, 0.3)
    d_closed = argument_shift("evidence", 0.8, closed, 0.0, 1.0, 0.3)
    assert d_open > d_closed > 0
    assert argument_shift("evidence", 0.8, open_mind, -0.9, 1.0, 0.3) < argument_shift("evidence", 0.8, open_mind, 0.0, 1.0, 0.3) + 0.2


def _personas_file(tmp_path):
    def p(i, part, e, a, stance=None):
        role = {"part": part} | ({"stance": stance} if stance is not None else {})
        return {"id": f"{part[:3]}{i}", "name": f"P{i}", "big_five": {"extraversion": e, "agreeableness": a},
                "roles": {"debate": role}}
    people = [p(0, "debater", 0.95, 0.05, 0.9), p(1, "debater", 0.2, 0.9, -0.9), p(2, "debater", 0.2, 0.9, 0.8),
              p(3, "debater", 0.3, 0.8, -0.8)] + [p(i, "audience", 0.5, 0.5) for i in range(4, 10)]
    path = tmp_path / "people.json"
    path.write_text(json.dumps(people))
    return path


def test_only_extraverted_disagreeable_debaters_interrupt(tmp_path):
    res = run(tmp_path, personas=str(_personas_file(tmp_path)), rounds=6, interruptions=3.0)
    log = load_run(res.path)
    by = [e.data["by"] for e in log.events(kind="debate.interrupted")]
    assert by and set(by) == {"deb0"}
    interrupted = [e for e in log.events(kind="debate.move") if e.data.get("interrupted_by")]
    assert all(e.data["side"] < 0 for e in interrupted)  # deb0 (for) cuts into the other side only


def test_witnesses_are_exactly_who_was_present(tmp_path):
    res = run(tmp_path, seed=4, n_audience=10, rounds=3, leave_rate=0.01, away_time=200.0)
    log = load_run(res.path)
    present = {e.agent: True for e in log.events(kind="agent.joined")}
    fewer = 0
    for e in log.events():
        if e.kind == "debate.left":
            present[e.agent] = False
        elif e.kind == "debate.rejoined":
            present[e.agent] = True
        elif e.kind == "message.sent":
            assert all(present[w] for w in e.witnesses), e
            if e.data.get("private"):
                assert e.witnesses == [e.data["sender"], *e.data["audience"]]
            elif e.data["sender"] != "moderator" and len(e.witnesses) < len(e.data["audience"]):
                fewer += 1  # someone addressed at the start left before the end of the speech
    assert sum(1 for _ in log.events(kind="debate.left")) > 0
    assert fewer > 0


def test_every_move_speech_interjection_or_private_word_has_the_keys_of_its_model(tmp_path):
    res = run(tmp_path, personas=str(_personas_file(tmp_path)), rounds=4, interruptions=3.0)
    moves = [e for e in load_run(res.path).events(kind="debate.move")]
    keys = set(DebateMove.model_fields) - set(Payload.model_fields)
    assert all(set(m.data) == keys | {"facts"} for m in moves)  # each move states the expressed opinion
    interjections = [m for m in moves if m.data["interjection"]]
    private = [m for m in moves if m.data["private"]]
    assert interjections and private and not any(m.data["interjection"] for m in private)
    rounds = {e.seq: e.data["round"] for e in load_run(res.path).events(kind="debate.round")}
    for m in moves:  # each move names the round it belongs to (a private word: the round whose break it is in)
        assert m.data["round"] == max(r for seq, r in rounds.items() if seq < m.seq)


def test_every_turn_logs_an_utterance_a_typed_move_and_belief_updates(tmp_path):
    res = run(tmp_path, **SMALL)
    log = load_run(res.path)
    moves = list(log.events(kind="debate.move"))
    assert moves and {m.data["move"] for m in moves} <= {"claim", "evidence", "rebuttal", "concession", "appeal"}
    messages = {e.seq: e for e in log.events(kind="message.sent")}
    for m in moves:
        said = messages[m.causes[0]]
        assert said.data["sender"] == m.data["speaker"] and said.data["text"]
        assert said.witnesses == m.witnesses
    updates = [e for e in log.events(kind="belief.updated") if e.data.get("rule") == "argument"]
    assert updates and all(e.data["about"] == "p1" and e.causes for e in updates)


def test_loaded_network_file_sets_the_influence_weights(tmp_path):
    people = _personas_file(tmp_path)
    ids = ["deb0", "deb1", "deb2", "deb3"] + [f"aud{i}" for i in range(4, 10)]
    ring = [[ids[i], ids[(i + 1) % len(ids)]] for i in range(len(ids))]
    (tmp_path / "net.yaml").write_text(json.dumps({"edges": ring, "directed": True}))
    res = run(tmp_path, personas=str(people), network="file", network_file=str(tmp_path / "net.yaml"),
              update_rule="degroot", network_steps=1)
    net, _ = network_of(res.path)
    W = np.array(net["weights"])
    assert np.count_nonzero(W) == 2 * len(ids) and np.allclose(W.sum(axis=1), 1.0)
    assert W[0, 1] == pytest.approx(0.5)


# -- log contracts ------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", ["argument", "degroot", "friedkin_johnsen", "hegselmann_krause", "deffuant"])
def test_metrics_recomputed_from_the_log_equal_metrics_json(tmp_path, rule):
    res = run(tmp_path, update_rule=rule, network_steps=3, propositions=["A is good.", "B is bad."], **SMALL)
    report = analyze_run(res.path)
    assert report["matches_metrics_json"] is True
    assert set(report["metrics"]["propositions"]) == {"p1", "p2"}


def test_same_seed_gives_identical_log_and_other_seeds_differ(tmp_path):
    a, b, c = (run(tmp_path, seed=s, update_rule="deffuant", network_steps=2) for s in (9, 9, 10))
    log_a = (a.path / "events.jsonl").read_bytes()
    assert log_a == (b.path / "events.jsonl").read_bytes()
    assert log_a != (c.path / "events.jsonl").read_bytes()


def test_unknown_update_rule_exits_2_with_one_line(cli, tmp_path):
    res = cli("run", "debate", "--set", "update_rule=majority")
    assert res.returncode == 2 and len(res.err_lines) == 1 and "Traceback" not in res.stderr
    assert "update_rule" in res.err_lines[0] and "degroot" in res.err_lines[0]
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("args, expected", [
    (["--set", "network=file"], "network_file"),
    (["--set", "network=file", "--set", "network_file=missing.yaml"], "no such file"),
    (["--set", "rounds=0"], "rounds"),
])
def test_bad_debate_input_exits_2(cli_inproc, args, expected):
    res = cli_inproc("run", "debate", *args)
    assert res.returncode == 2 and len(res.err_lines) == 1 and expected in res.err_lines[0]


def test_network_file_naming_a_stranger_is_bad_input_before_the_run_starts(cli_inproc, tmp_path):
    (tmp_path / "net.json").write_text(json.dumps({"edges": [["debater000", "nobody"]]}))
    res = cli_inproc("run", "debate", "--set", "network=file", "--set", f"network_file={tmp_path / 'net.json'}")
    assert res.returncode == 2 and "unknown participant 'nobody'" in res.err_lines[0]
    assert not (tmp_path / "runs").exists()


def test_generated_participants_are_known_to_the_network_file_check_by_their_ids(tmp_path):
    ids = population_ids("debater", 2) + population_ids("audience", 3)
    (tmp_path / "net.json").write_text(json.dumps({"edges": [[ids[0], ids[-1]], [ids[-1], ids[1]]]}))
    scn = DebateScenario(DebateConfig(n_debaters=2, n_audience=3, network="file", network_file=tmp_path / "net.json"))
    scn.load_inputs()
    assert scn.inputs.edges == [(ids[0], ids[-1], 1.0), (ids[-1], ids[0], 1.0), (ids[-1], ids[1], 1.0),
                                (ids[1], ids[-1], 1.0)]
    # one audience member fewer: the edge to audience002 names a stranger
    fewer = DebateScenario(DebateConfig(n_debaters=2, n_audience=2, network="file", network_file=tmp_path / "net.json"))
    with pytest.raises(BadInput, match="unknown participant 'audience002'"):
        fewer.load_inputs()


@pytest.mark.parametrize("n", [4, 1001])
def test_population_ids_are_the_ids_the_population_generator_gives(n):
    generated = generate_population(PopulationSpec(), n, np.random.default_rng(0), "audience")
    assert population_ids("audience", n) == [p.id for p in generated]


def test_network_file_naming_a_persona_the_config_leaves_out_is_refused_in_check(tmp_path):
    people = _personas_file(tmp_path)
    (tmp_path / "net.json").write_text(json.dumps({"edges": [["deb0", "aud9"]]}))
    cfg = {"personas": people, "network": "file", "network_file": tmp_path / "net.json"}
    DebateScenario(DebateConfig(**cfg)).load_inputs()  # aud9 is in the file
    with pytest.raises(BadInput, match="unknown participant 'aud9'"):
        DebateScenario(DebateConfig(**cfg, n_audience=3)).load_inputs()


def test_example_script_compares_the_rules(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "examples" / "debate.py"
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "runs")], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()[1:]] == [
        "argument", "degroot", "friedkin_johnsen", "hegselmann_krause", "deffuant"]


@pytest.mark.parametrize("rule", ["degroot", "friedkin_johnsen", "hegselmann_krause", "deffuant"])
def test_network_dynamics_recomputed_from_the_log_alone_match_the_logged_opinions(tmp_path, rule):
    res = run(tmp_path, seed=6, update_rule=rule, network_steps=4, rounds=2, epsilon=0.6)
    log = load_run(res.path)
    net, final = network_of(res.path)
    ids = net["nodes"]
    index = {a: i for i, a in enumerate(ids)}
    W, s = np.array(net["weights"]), np.array(net["stubbornness"])
    x0 = np.array(net["initial"]["p1"])
    A = (W > 0).astype(float)
    np.fill_diagonal(A, 1.0)
    x = x0.copy()
    steps = list(log.events(kind="debate.step"))
    assert len(steps) == 8
    for e in steps:
        if rule == "degroot":
            x, _ = dynamics.degroot(W, x)
        elif rule == "friedkin_johnsen":
            x, _ = dynamics.friedkin_johnsen(W, x, x0, s)
        elif rule == "hegselmann_krause":
            x, _ = dynamics.hegselmann_krause(A, x, net["epsilon"])
        else:
            pairs = np.array([[index[a], index[b]] for a, b in e.data["pairs"]])
            x, _ = dynamics.deffuant(x, pairs, net["epsilon"], net["mu"])
    assert np.array_equal(x, final)
