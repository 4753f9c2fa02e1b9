"""Run mypy (strict, settings in pyproject.toml) over the simworld namespace.

The four sibling folders (agents/, memory/, scenarios/, analysis/) are mapped into ``simworld`` by
setuptools, which mypy cannot follow from the repository root; this builds the namespace as a tree of
symbolic links under ``build/typecheck`` and checks it there. Extra arguments go to mypy; with none, the
whole package is checked. Exit status is mypy's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPED = {"agents": "agents", "memory": "memory", "scenarios": "scenarios", "analysis": "analysis"}


def build_tree() -> Path:
    tree = ROOT / "build" / "typecheck"
    if tree.exists():
        shutil.rmtree(tree)
    pkg = tree / "simworld"
    pkg.mkdir(parents=True)
    for entry in (ROOT / "simworld").iterdir():
        if entry.name != "__pycache__":
            os.symlink(entry, pkg / entry.name)
    for name, folder in MAPPED.items():
        os.symlink(ROOT / folder, pkg / name)
    return tree


def main(argv: list[str]) -> int:
    tree = build_tree()
    targets = argv or ["-p", "simworld"]
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *targets]
    return subprocess.call(cmd, cwd=tree)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
