"""The benchmark scripts run as `python bench/<script>.py`, which puts `bench/` first on `sys.path`."""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_no_bench_script_is_named_like_a_standard_library_module() -> None:
    shadowing = sorted(path.name for path in BENCH.glob("*.py") if path.stem in sys.stdlib_module_names)
    assert shadowing == [], f"these bench/ files hide standard-library modules from every bench script: {shadowing}"
