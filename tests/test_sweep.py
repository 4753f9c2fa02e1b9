"""``simworld sweep`` on the process pool: the folder's shape, the tables, resume, failures and bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import cli_env, interrupt_sweep, simworld_cmd

from simworld.errors import BadInput
from simworld.stats import bootstrap_ci, holm, paired_test
from simworld.sweep import SweepInterrupted, load_sweep, run_sweep

#: 2 formats x 2 persona variants x 3 seeds; the bold variant changes what the persona policy reads.
SWEEP = """\
scenario: auction
set: {n_bidders: 3, n_items: 2}
grid:
  format: [english, dutch]
personas:
  calm: {set: {neuroticism: 0.1, extraversion: 0.2}}
  bold: {set: {neuroticism: 0.9, extraversion: 0.9, occupation: trader}}
seeds: 3
control: {persona: calm}
"""


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def tree(folder: Path) -> dict[str, bytes]:
    """Every events.jsonl under the sweep's runs/, by run id."""
    return {p.parent.name: p.read_bytes() for p in sorted((folder / "runs").glob("*/events.jsonl"))}


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """The 2 x 2 x 3 sweep on a pool of two spawned processes, and the same sweep run serially."""
    base = tmp_path_factory.mktemp("sweep")
    spec = base / "study.yaml"
    spec.write_text(SWEEP, encoding="utf-8")
    pooled = run_sweep(spec, base / "pool", executor="local", workers=2)
    serial = run_sweep(spec, base / "serial", executor="serial")
    return base, pooled, serial


def test_a_sweep_writes_one_run_folder_per_arm_and_seed_and_one_row_each(local_sweep):
    base, result, _ = local_sweep
    out = base / "pool"
    assert result.status == {"completed": 12} and sorted(result.ran) == sorted(r["run_id"] for r in rows(
        out / "results.csv"))
    table = rows(out / "results.csv")
    assert [r["run_id"] for r in table] == [f"arm{a:02d}-s{s}" for a in range(4) for s in range(3)]
    header = list(table[0])
    assert header[:7] == ["run_id", "arm", "format", "persona", "seed", "status", "error"]
    assert "revenue_total" in header and "wins_by_strategy.persona" in header  # flattened with dots
    assert "metrics.format" in header  # the metric named like the swept key keeps its own column
    assert [(r["format"], r["persona"]) for r in table[::3]] == [
        ("english", "calm"), ("english", "bold"), ("dutch", "calm"), ("dutch", "bold")]
    for r in table:
        run = out / "runs" / r["run_id"]
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["seed"] == int(r["seed"]) and manifest["status"] == "completed"
        assert float(r["revenue_total"]) == json.loads((run / "metrics.json").read_text())["revenue_total"]
        assert manifest["config"]["format"] == r["format"]
    # the persona variant reached the agents (and so the log)
    joined = [json.loads(line) for line in (out / "runs" / "arm01-s0" / "events.jsonl").read_text().splitlines()
              if '"agent.joined"' in line]
    assert {(e["data"]["persona"]["big_five"]["neuroticism"], e["data"]["persona"]["demographics"]["occupation"])
            for e in joined} == {(0.9, "trader")}
    resolved = (out / "sweep.yaml").read_text()
    assert "arm03:" in resolved and "format: dutch" in resolved
    assert {r["run_id"] for r in rows(out / "timings.csv")} == {r["run_id"] for r in table}


def test_the_pool_and_one_process_give_identical_logs_and_tables(local_sweep):
    base, _, _ = local_sweep
    assert tree(base / "pool") == tree(base / "serial") and len(tree(base / "pool")) == 12
    for name in ("results.csv", "summary.csv"):
        assert (base / "pool" / name).read_bytes() == (base / "serial" / name).read_bytes()


def test_summary_has_per_arm_bootstrap_cis_and_paired_differences_against_the_control(local_sweep):
    base, _, _ = local_sweep
    table = rows(base / "pool" / "results.csv")
    summary = rows(base / "pool" / "summary.csv")
    assert list(summary[0])[:9] == ["arm", "format", "persona", "metric", "n", "mean", "sd", "ci_low", "ci_high"]
    assert {"diff", "diff_ci_low", "diff_ci_high", "t_p", "wilcoxon_p", "p_holm"} <= set(summary[0])

    def values(arm: str, metric: str) -> list[float]:
        return [float(r[metric]) for r in table if r["arm"] == arm]

    rec = next(r for r in summary if r["arm"] == "arm03" and r["metric"] == "revenue_total")
    assert int(rec["n"]) == 3
    assert float(rec["mean"]) == pytest.approx(sum(values("arm03", "revenue_total")) / 3)
    assert (float(rec["ci_low"]), float(rec["ci_high"])) == bootstrap_ci(values("arm03", "revenue_total"))
    # bold Dutch bidders are compared with calm Dutch bidders (control: persona calm, same format), seed by seed
    control, treated = values("arm02", "revenue_total"), values("arm03", "revenue_total")
    test = paired_test(control, treated)
    assert float(rec["diff"]) == pytest.approx(test.difference)
    assert float(rec["t_p"]) == pytest.approx(test.p_value) and float(rec["wilcoxon_p"]) == pytest.approx(
        test.wilcoxon_p_value)
    # control arms carry no comparison; Holm runs over every comparison in the sweep
    assert all(r["diff"] == "" and r["p_holm"] == "" for r in summary if r["persona"] == "calm")
    tested = [r for r in summary if r["t_p"] != ""]
    assert [float(r["p_holm"]) for r in tested] == pytest.approx(holm([float(r["t_p"]) for r in tested]))


def test_resume_runs_only_what_did_not_finish_and_gives_the_same_tables(local_sweep, tmp_path):
    base, _, _ = local_sweep
    import shutil

    out = tmp_path / "sweep"
    shutil.copytree(base / "serial", out)
    before = (out / "results.csv").read_bytes(), (out / "summary.csv").read_bytes()
    (out / "runs" / "arm00-s1" / "metrics.json").unlink()  # killed while writing its metrics
    manifest = out / "runs" / "arm02-s2" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "status": "interrupted"}))
    shutil.rmtree(out / "runs" / "arm03-s0")  # never started
    kept = out / "runs" / "arm01-s1" / "events.jsonl"
    stamp = kept.stat().st_mtime_ns
    result = run_sweep(base / "study.yaml", out, executor="local", workers=2, resume=True)
    assert sorted(result.ran) == ["arm00-s1", "arm02-s2", "arm03-s0"] and len(result.skipped) == 9
    assert kept.stat().st_mtime_ns == stamp  # a finished run is not touched
    assert ((out / "results.csv").read_bytes(), (out / "summary.csv").read_bytes()) == before
    assert tree(out) == tree(base / "serial")


def test_ctrl_c_keeps_finished_runs_and_resume_completes_the_sweep(tmp_path, write):
    """A real SIGINT to the sweep's process group (as a terminal sends it), then --resume."""
    spec = write("slow.yaml", "scenario: auction\nset: {n_bidders: 40, n_items: 6}\ngrid:\n  format: [english, dutch]\n"
                              "seeds: 6\n")
    out = tmp_path / "out"
    code, stdout, err = interrupt_sweep(spec, out, "--workers", "2")
    table = rows(out / "results.csv")
    done = [r["run_id"] for r in table if r["status"] == "completed"]
    if code == 0:  # the sweep outran the signal on this machine: nothing left to resume
        assert len(done) == 12
        return
    assert code == 130 and "--resume" in err and "aborted" not in err
    assert stdout.splitlines()[-1] == str(out)  # the folder stays the last line of stdout
    assert 1 <= len(done) < 12 and {r["status"] for r in table} <= {"completed", "interrupted", "pending"}
    result = run_sweep(spec, out, executor="local", workers=2, resume=True)
    assert sorted(result.skipped) == sorted(done) and set(result.ran).isdisjoint(done)
    assert result.status == {"completed": 12}


def test_a_failed_run_is_a_row_with_its_error_and_the_sweep_goes_on(tmp_path, write):
    write("flaky.py", '''
from typing import Any
import simworld as sw
from simworld.scenario import ScenarioConfig

class FlakyConfig(ScenarioConfig):
    fail_at: int = -1
    steps: int = 3

class Flaky(sw.Scenario):
    """Counts steps; fails at step fail_at."""
    name = "flaky"
    Config = FlakyConfig
    config: FlakyConfig

    def processes(self, world: sw.World) -> list[Any]:
        def go() -> Any:
            for i in range(self.config.steps):
                if i == self.config.fail_at:
                    raise RuntimeError(f"broke at step {i}")
                yield world.env.timeout(1.0)
        return [go()]

    def metrics(self, log: sw.RunLog) -> dict[str, Any]:
        return {"steps": self.config.steps, "nested": {"a": 1, "b": None}}
''')
    spec = write("s.yaml", "scenario: flaky.py\ngrid:\n  fail_at: [-1, 1]\nseeds: [5, 9]\n")
    result = run_sweep(spec, tmp_path / "out", executor="local", workers=2)
    table = rows(tmp_path / "out" / "results.csv")
    assert [(r["fail_at"], r["seed"], r["status"]) for r in table] == [
        ("-1", "5", "completed"), ("-1", "9", "completed"), ("1", "5", "failed"), ("1", "9", "failed")]
    assert all("RuntimeError: broke at step 1" in r["error"] for r in table[2:])
    assert [r["nested.a"] for r in table] == ["1"] * 4  # a failed run's log still gives its metrics
    assert result.status == {"completed": 2, "failed": 2}
    summary = {(r["arm"], r["metric"]): r for r in rows(tmp_path / "out" / "summary.csv")}
    assert summary["arm00", "steps"]["n"] == "2" and summary["arm01", "steps"]["n"] == "0"  # completed runs only


def test_the_cli_prints_the_folder_last_and_exits_1_when_a_run_failed(tmp_path, write, cli_inproc):
    spec = write("s.yaml", "scenario: auction\nset: {n_bidders: 2, n_items: 1}\ngrid:\n  format: [english]\n"
                           "seeds: 2\n")
    res = cli_inproc("sweep", spec, "--out", "out", "--executor", "serial")
    assert res.returncode == 0 and res.out_lines[-1] == "out"
    assert "2 runs: 2 completed" in res.stderr


BAD = [
    ("grid:\n  no_such_key: [1, 2]\n", "grid.no_such_key", "unknown field 'no_such_key'"),
    ("grid: {}\n", "grid", "the grid is empty"),
    ("grid:\n  format: []\n", "grid.format", "no values"),
    ("grid:\n  format: [english, sotheby]\n", "grid.format", "sotheby"),
    ("seeds: 2\n", "grid", "missing field"),
    ("grid:\n  format: [english]\ncontrol: {format: dutch}\n", "control", "no arm has format=dutch"),
    ("grid:\n  format: [english]\ncontrol: {n_bidders: 3}\n", "control.n_bidders", "not a swept key"),
    ("grid:\n  format: [english]\nseeds: 0\n", "seeds", "at least one seed"),
    ("grid:\n  format: [english]\nseeds: 4\nbudget: {max_calls: 3}\n", "budget.max_calls", "less than one per run"),
    ("grid:\n  format: [english]\npersonas:\n  odd: {set: {age: old}}\n", "personas", "demographics.age"),
    ("grid:\n  persona.id: [a, b]\n", "grid.persona.*", "cannot change id"),
    ("grid:\n  format: [english]\nunknown_block: 1\n", "unknown_block", "unknown field"),
]


@pytest.mark.parametrize(("body", "field", "problem"), BAD, ids=[b[1] + ":" + b[2][:12] for b in BAD])
def test_bad_sweep_files_are_one_line_naming_the_field_and_write_nothing(tmp_path, write, cli_inproc, body,
                                                                         field, problem):
    spec = write("s.yaml", "scenario: auction\n" + body)
    res = cli_inproc("sweep", spec, "--out", "out")
    assert res.returncode == 2 and len(res.err_lines) == 1, res.stderr
    assert f"s.yaml: {field}:" in res.stderr and problem in res.stderr
    assert not (tmp_path / "out").exists()


def test_a_folder_with_files_is_refused_unless_resuming_the_same_sweep(tmp_path, write, cli_inproc):
    spec = write("s.yaml", "scenario: auction\nset: {n_bidders: 2, n_items: 1}\ngrid:\n  format: [english]\n")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    res = cli_inproc("sweep", spec, "--out", "busy")
    assert res.returncode == 2 and "busy: already holds files" in res.stderr
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]
    assert cli_inproc("sweep", spec, "--out", "done", "--executor", "serial").returncode == 0
    snapshot = {p: p.read_bytes() for p in (tmp_path / "done").rglob("*") if p.is_file()}
    again = cli_inproc("sweep", spec, "--out", "done")
    assert again.returncode == 2 and "already holds a sweep (continue it with --resume)" in again.stderr
    changed = write("s.yaml", spec.read_text().replace("[english]", "[english, dutch]"))
    res = cli_inproc("sweep", changed, "--out", "done", "--resume")
    assert res.returncode == 2 and "differs from the sweep in done (arms, grid)" in res.stderr
    assert cli_inproc("sweep", changed, "--out", "nothing", "--resume").returncode == 2
    assert {p: p.read_bytes() for p in (tmp_path / "done").rglob("*") if p.is_file()} == snapshot


def test_the_budget_is_split_over_the_runs_and_never_exceeded(tmp_path, write):
    spec = write("s.yaml", "scenario: auction\ngrid:\n  format: [english, dutch]\nseeds: 3\n"
                           "budget: {max_calls: 20, max_total_tokens: 6001}\n")
    tasks = load_sweep(spec).tasks(tmp_path)
    calls = [t.overrides["model.max_calls"] for t in tasks]
    tokens = [t.overrides["model.max_total_tokens"] for t in tasks]
    assert sum(calls) == 20 and max(calls) - min(calls) <= 1
    assert sum(tokens) == 6001 and max(tokens) - min(tokens) <= 1


def test_the_sweep_api_raises_sweep_interrupted_from_a_serial_run(tmp_path, write, monkeypatch):
    """Ctrl-C between runs of the serial executor: the tables of what finished are written."""
    from simworld.sweep import worker

    spec = write("s.yaml", "scenario: auction\nset: {n_bidders: 2, n_items: 1}\ngrid:\n  format: [english]\n"
                           "seeds: 3\n")
    real = worker.run_task
    calls = []

    def interrupt_second(task):
        calls.append(task.run_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr("simworld.sweep.executors.run_task", interrupt_second)
    with pytest.raises(SweepInterrupted, match="1 of 3 runs finished"):
        run_sweep(spec, tmp_path / "out", executor="serial")
    assert [r["status"] for r in rows(tmp_path / "out" / "results.csv")] == ["completed", "pending", "pending"]


def test_bad_executor_flags_are_bad_input(tmp_path, write):
    spec = write("s.yaml", "scenario: auction\ngrid:\n  format: [english]\n")
    with pytest.raises(BadInput, match="unknown executor 'dask'"):
        run_sweep(spec, tmp_path / "a", executor="dask")
    with pytest.raises(BadInput, match="only the ray executor joins a cluster"):
        run_sweep(spec, tmp_path / "b", executor="local", address="127.0.0.1:6379")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_relative_paths_in_a_sweep_are_read_from_its_folder_on_every_executor(tmp_path, write, cli_inproc):
    import shutil

    from conftest import EXAMPLES

    (tmp_path / "study").mkdir()
    shutil.copy(EXAMPLES / "bidders.yaml", tmp_path / "study" / "people.yaml")
    spec = write("study/s.yaml", "scenario: auction\nset: {personas: people.yaml, n_items: 1}\n"
                                 "grid:\n  format: [english, dutch]\n")
    (tmp_path / "elsewhere").mkdir()
    res = cli_inproc("sweep", spec, "--out", tmp_path / "out", "--workers", "2", cwd=tmp_path / "elsewhere")
    assert res.returncode == 0, res.stderr
    joined = [line for line in (tmp_path / "out" / "runs" / "arm01-s0" / "events.jsonl").read_text().splitlines()
              if '"agent.joined"' in line]
    names = {json.loads(line)["data"]["persona"]["name"] for line in joined}
    people = yaml.safe_load((tmp_path / "study" / "people.yaml").read_text())["personas"]
    assert names == {p["name"] for p in people}
    assert Path.cwd() == tmp_path / "elsewhere"  # the sweep went back to the caller's folder


def test_results_parquet_holds_the_same_rows_with_typed_numbers(local_sweep):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    base, _, _ = local_sweep
    frame = pd.read_parquet(base / "pool" / "results.parquet")
    table = rows(base / "pool" / "results.csv")
    assert list(frame.columns) == list(table[0]) and len(frame) == 12
    assert frame["revenue_total"].dtype == "float64" and frame["seed"].dtype == "int64"
    assert frame["revenue_total"].tolist() == [float(r["revenue_total"]) for r in table]
    assert frame["run_id"].tolist() == [r["run_id"] for r in table]


def test_simworld_report_draws_a_sweep_folder_and_the_bar_can_be_forced(local_sweep, tmp_path, cli_inproc, write):
    pytest.importorskip("matplotlib")
    base, _, _ = local_sweep
    res = cli_inproc("report", base / "pool", "--out", tmp_path / "report.html")
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "report.html").read_text()
    assert "arm03" in page and "revenue_total" in page and "Paired differences against the control" in page
    spec = write("s.yaml", "scenario: auction\nset: {n_bidders: 2, n_items: 1}\ngrid:\n  format: [english]\n")
    forced = cli_inproc("sweep", spec, "--out", "bar", "--executor", "serial", "--progress")
    assert forced.returncode == 0 and "sweep (serial, 1 worker)" in forced.stderr


def test_the_base_config_comes_from_a_config_file_or_inline_values(tmp_path, write):
    write("base.yaml", "scenario: auction\nn_bidders: 2\nn_items: 1\nstrategy: truthful\n")
    from_file = write("a.yaml", "config: base.yaml\nset: {n_items: 2}\ngrid:\n  format: [english]\n")
    inline = write("b.yaml", "scenario: auction\nconfig: {n_bidders: 2, n_items: 1, strategy: truthful}\n"
                             "set: {n_items: 2}\ngrid:\n  format: [english]\n")
    run_sweep(from_file, tmp_path / "a", executor="serial")
    run_sweep(inline, tmp_path / "b", executor="serial")
    for name in ("a", "b"):
        config = json.loads((tmp_path / name / "runs" / "arm00-s0" / "manifest.json").read_text())["config"]
        assert (config["n_bidders"], config["n_items"], config["strategy"]) == (2, 2, "truthful")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


@pytest.mark.parametrize(("flags", "problem"), [
    (["--workers", "0"], "--workers: must be at least 1, got 0"),
    (["--executor", "dask"], "--executor: unknown executor 'dask' (known: local, ray, serial)"),
    (["--address", "127.0.0.1:6379"], "--address: only the ray executor joins a cluster (add --executor ray)"),
])
def test_bad_flags_are_one_line_exit_2_and_write_nothing(tmp_path, write, cli_inproc, flags, problem):
    spec = write("s.yaml", "scenario: auction\ngrid:\n  format: [english]\n")
    res = cli_inproc("sweep", spec, "--out", "out", *flags)
    assert res.returncode == 2 and res.stderr.strip() == f"simworld: error: {problem}"
    assert not (tmp_path / "out").exists()


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper has exited)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_resume_after_kill_9_reruns_only_the_unfinished_runs(tmp_path, write):
    """The sweep process killed outright (no tables written); its pool workers exit with it, and --resume
    keeps every run that finished and runs the rest, to the tables an uninterrupted sweep gives."""
    spec = write("slow.yaml", "scenario: auction\nset: {n_bidders: 40, n_items: 6}\ngrid:\n  format: [english, dutch]\n"
                              "seeds: 6\n")
    out = tmp_path / "out"
    proc = subprocess.Popen(simworld_cmd("sweep", spec, "--out", out, "--workers", "2"), cwd=tmp_path,
                            env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(out.glob("runs/*/metrics.json")):
        time.sleep(0.02)
    workers = children(proc.pid)
    proc.kill()
    proc.wait(30)
    deadline = time.monotonic() + 30  # the orphaned workers notice within 0.5 s and exit
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.05)
    assert workers and not any(alive(pid) for pid in workers)
    from simworld.sweep.worker import finished

    done = sorted(p.name for p in (out / "runs").iterdir() if finished(p))
    if len(done) == 12:  # the sweep outran the kill on this machine
        return
    assert done and not (out / "results.csv").exists()
    result = run_sweep(spec, out, executor="local", workers=2, resume=True)
    assert sorted(result.skipped) == done and sorted(result.ran) == sorted({
        f"arm0{a}-s{s}" for a in range(2) for s in range(6)} - set(done))
    clean = run_sweep(spec, tmp_path / "clean", executor="serial")
    assert clean.status == result.status == {"completed": 12}
    assert (out / "results.csv").read_bytes() == (tmp_path / "clean" / "results.csv").read_bytes()
    assert tree(out) == tree(tmp_path / "clean")
