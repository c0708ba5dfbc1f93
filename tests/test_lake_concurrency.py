"""Steps that run at once never fail on the lake's DuckDB file lock.

An orchestrator with parallelism (Airflow's LocalExecutor, Celery, Kubernetes) runs the
table steps of independent assets at the same moment. DuckDB lets one process open a
database file at a time, so before `lake_lock` three of four concurrent steps failed
with `Could not set lock on file "lake.duckdb"`. Here the lake-writing steps of 8 tables
run in 8 processes at once, 5 rounds, from a lake that has each table's staged CSV file
but no database: every step does its work each round.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aorist import dag

from conftest import TESTS_DIR, lake_tables, run_generated
from fixtures_data import snap_like_gz, snap_universe

NAMES = [f"g{i}" for i in range(8)]
ROUNDS = 5
RUNNER = TESTS_DIR / "lake_steps_runner.py"


@pytest.mark.parametrize("fuse", [False, True], ids=["separate_steps", "fused"])
def test_lake_steps_of_8_tables_in_8_processes(http_server, tmp_path: Path, fuse: bool) -> None:
    edges = {name: snap_like_gz(http_server.root / f"{name}.txt.gz", 50 + i, seed=i)
             for i, name in enumerate(NAMES)}  # fmt: skip
    code = dag(
        snap_universe(http_server.base_url, NAMES), ["AllAssetsComputed"], "python", fuse=fuse
    )
    program = tmp_path / "program.py"
    program.write_text(code)
    # The staged CSV files each round starts from stay (a full run removes them).
    run_generated(code, tmp_path, expect_ok=True, env={"AORIST_KEEP_TEMPORARY_FILES": "1"})
    assert lake_tables(tmp_path) == {f"snap.{name}": n for name, n in edges.items()}
    lake = tmp_path / "lake"
    failures = []
    for round_ in range(ROUNDS):
        # Back to the staged state: no database, no table files; staged CSVs stay.
        for path in lake.iterdir():
            if path.name != "_staging":
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        processes = [
            subprocess.Popen(
                [sys.executable, str(RUNNER), str(program), name, *(["fused"] if fuse else [])],
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name in NAMES
        ]
        for name, process in zip(NAMES, processes, strict=True):
            output, _ = process.communicate(timeout=300)
            if process.returncode != 0:
                failures.append(f"round {round_}, {name}:\n{output[-2000:]}")
        assert lake_tables(tmp_path) == {f"snap.{name}": n for name, n in edges.items()}
    assert failures == []
