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
    """The link tree, brought up to date in place (never deleted: another check may be reading it)."""
    tree = ROOT / "build" / "typecheck"
    pkg = tree / "simworld"
    pkg.mkdir(parents=True, exist_ok=True)
    wanted = {e.name: e for e in (ROOT / "simworld").iterdir() if e.name != "__pycache__"}
    wanted.update({name: ROOT / folder for name, folder in MAPPED.items()})
    for link in pkg.iterdir():
        if link.name not in wanted or not link.is_symlink() or Path(os.readlink(link)) != wanted[link.name]:
            if link.is_dir() and not link.is_symlink():
                shutil.rmtree(link)
            else:
                link.unlink()
    for name, target in wanted.items():
        if not (pkg / name).is_symlink():
            try:
                os.symlink(target, pkg / name)
            except FileExistsError:  # made by a check running at the same moment
                pass
    return tree


def main(argv: list[str]) -> int:
    tree = build_tree()
    targets = argv or ["-p", "simworld"]
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *targets]
    return subprocess.call(cmd, cwd=tree)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
