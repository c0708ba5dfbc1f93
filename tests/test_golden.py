"""Golden files: each stage of each case, and the exact error of each bad declaration.

Regenerate with `make golden` (AORIST_UPDATE_GOLDEN=1); review the diff, never hand-edit.
Goldens are for reviewing changes; the execution tests prove the code works.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

import pytest

from aorist import AoristError, dag, stage

HERE = Path(__file__).parent
CASES = HERE / "cases"
BAD = CASES / "bad"
GOLDEN = HERE / "golden"
UPDATE = os.environ.get("AORIST_UPDATE_GOLDEN") == "1"
# A case declares `universe`; other modules here hold functions cases and tests use.
CASE_NAMES = sorted(p.stem for p in CASES.glob("*.py") if "\nuniverse = " in p.read_text())
BAD_NAMES = sorted(p.stem for p in BAD.glob("*.py") if not p.stem.startswith("_"))
DIALECTS = ["python", "airflow", "jupyter", "r", "dagster", "prefect", "hamilton"]
# R programs run Python recipes (ORC targets, models, functions) through python3.
R_CASES = ["derived", "snap", "wine"]


def check(path: Path, actual: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return
    assert path.exists(), f"{path} is missing; run `make golden`"
    expected = path.read_text()
    assert actual == expected, f"{path} differs; run `make golden` and review the diff"


def load(case: str):
    return runpy.run_path(str(CASES / f"{case}.py"))["universe"]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_stages(case: str) -> None:
    universe = load(case)
    constraints = ["AllAssetsComputed"]
    check(GOLDEN / case / "dag.txt", stage(universe, constraints, "dag_text"))
    check(GOLDEN / case / "dag.dot", stage(universe, constraints, "dag_dot"))
    check(GOLDEN / case / "bound.json", stage(universe, constraints, "bound") + "\n")
    check(GOLDEN / case / "compressed.json", stage(universe, constraints, "compressed") + "\n")
    check(GOLDEN / case / "lineage.txt", stage(universe, constraints, "lineage_text"))
    check(GOLDEN / case / "lineage.dot", stage(universe, constraints, "lineage_dot"))


@pytest.mark.parametrize(
    ("case", "dialect"),
    [(c, d) for d in DIALECTS for c in CASE_NAMES if d != "r" or c in R_CASES],
)
def test_dialects(case: str, dialect: str) -> None:
    from aorist.dialects import DIALECTS as ALL

    code = dag(load(case), ["AllAssetsComputed"], dialect)
    check(GOLDEN / case / f"{case}.{dialect}{ALL[dialect].suffix}.expect", code)


@pytest.mark.parametrize("case", BAD_NAMES)
def test_bad_declarations(case: str) -> None:
    sys.path.insert(0, str(BAD))
    try:
        with pytest.raises(AoristError) as raised:
            runpy.run_path(str(BAD / f"{case}.py"))
    finally:
        sys.path.remove(str(BAD))
    check(BAD / f"{case}.expect", f"{type(raised.value).__name__}: {raised.value}\n")
