"""Shared fixtures: the CLI in a subprocess, small finished runs, file helpers.

Subprocesses always run with ``cwd=tmp_path`` (so no ``runs/`` folder lands in the repository) and with
a timeout, and with pipes (not a terminal) so no progress bar is drawn.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

# Every World in the tests (and in the CLI subprocesses they start) validates each logged payload
# against its kind's model: a scenario that emits an undeclared kind or a wrong payload fails here.
os.environ.setdefault("SIMWORLD_CHECK_EVENTS", "1")

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

#: Seconds a CLI subprocess may take before the test fails (a normal small run takes about one second).
CLI_TIMEOUT = 60


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def out_lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


#: Bytecode for the CLI subprocesses, kept outside the repository: each subprocess would otherwise
#: recompile simworld from source when PYTHONDONTWRITEBYTECODE is set (a third of its start-up time).
PYCACHE = Path(tempfile.gettempdir()) / "simworld-tests-pycache"


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def simworld_cmd(*args: str | os.PathLike[str]) -> list[str]:
    return [sys.executable, "-m", "simworld", *map(str, args)]


def interrupt_sweep(spec: Path, out: Path, *flags: str, wait: float = 60.0) -> tuple[int, str, str]:
    """Start ``simworld sweep SPEC --out OUT FLAGS`` in its own process group, send the group SIGINT (as a
    terminal does) once a first run has finished, and return (exit code, stdout, stderr)."""
    import signal
    import time

    proc = subprocess.Popen(simworld_cmd("sweep", spec, "--out", out, *flags), cwd=spec.parent, env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not list(out.glob("runs/*/metrics.json")):
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, err = proc.communicate(timeout=wait)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, stdout, err


@pytest.fixture
def cli(tmp_path):
    """``cli("run", "auction", ...)`` runs ``python -m simworld`` in ``tmp_path`` and returns a CliResult."""

    def run(*args: str | os.PathLike[str], cwd: Path | None = None, timeout: float = CLI_TIMEOUT) -> CliResult:
        proc = subprocess.run(
            simworld_cmd(*args),
            cwd=cwd or tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env=cli_env(),
            stdin=subprocess.DEVNULL,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


def start_cli(*args: str | os.PathLike[str], cwd: Path) -> subprocess.Popen[str]:
    """A CLI subprocess left running (for signal tests); stdout/stderr are pipes."""
    return subprocess.Popen(
        simworld_cmd(*args),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=cli_env(),
    )


def wait_for_events(out_dir: Path, proc: subprocess.Popen[str], min_bytes: int = 1, timeout: float = 30) -> Path:
    """Wait until the single run under ``out_dir`` has at least ``min_bytes`` of events; return its folder."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [p for p in out_dir.glob("*/events.jsonl") if p.stat().st_size >= min_bytes]
        if runs:
            return runs[0].parent
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"the run ended (rc {proc.returncode}) before writing events: {err[-2000:]}")
        time.sleep(0.02)
    kill(proc)
    pytest.fail(f"no events under {out_dir} after {timeout} s")


def kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture
def write(tmp_path):
    """``write("name.yaml", text)`` -> the path of a new file under tmp_path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def auction_run(tmp_path_factory) -> Path:
    """A finished small auction run (English, profilers and truthful bidders), shared read-only."""
    import simworld as sw

    out = tmp_path_factory.mktemp("auction_run")
    result = sw.run(
        "auction",
        seed=11,
        out=out,
        overrides={"n_bidders": 4, "n_items": 3, "strategy": {"profiler": 0.5, "truthful": 0.5}},
        run_id="english",
    )
    return result.path


@pytest.fixture
def copy_run(tmp_path):
    """``copy_run(path)`` -> a writable copy of a run directory under tmp_path."""
    import shutil

    def _copy(path: Path, name: str = "copy") -> Path:
        dest = tmp_path / name
        shutil.copytree(path, dest)
        return dest

    return _copy


@pytest.fixture
def cli_inproc(tmp_path, monkeypatch, capsys):
    """Like ``cli`` but calls ``simworld.cli.main`` in this process (fast; for the many small error cases
    whose subprocess path is already covered by the end-to-end tests)."""
    from simworld.cli import main

    def run(*args: str | os.PathLike[str], cwd: Path | None = None) -> CliResult:
        monkeypatch.chdir(cwd or tmp_path)
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run
