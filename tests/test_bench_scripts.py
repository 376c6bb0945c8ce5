"""Every bench script still imports against the current package and its sibling modules.

The benchmarks are run by hand, not in CI (bench/README.md), so a helper moved from one bench module to another
(say, settle_bodies from ceiling to benchlib) would otherwise break a script silently until someone runs it.
Importing one runs nothing: each script's work is under `if __name__ == "__main__"`.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

BENCH = pathlib.Path(__file__).resolve().parents[1] / "bench"
# locust is in the `bench` extra only (CI installs `dev`): the Locust file is checked by the mix, not here.
NEEDS_BENCH_EXTRA = {"locustfile"}


def test_every_bench_script_imports():
    names = sorted(path.stem for path in BENCH.glob("*.py") if path.stem not in NEEDS_BENCH_EXTRA)
    assert len(names) >= 15, names  # the directory is there and holds the scripts
    program = ("import importlib, sys; sys.path.insert(0, sys.argv[1]); "
               "[importlib.import_module(name) for name in sys.argv[2:]]; print('imported', len(sys.argv) - 2)")
    done = subprocess.run([sys.executable, "-c", program, str(BENCH), *names], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"imported {len(names)}"
