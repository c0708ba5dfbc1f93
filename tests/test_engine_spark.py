"""The Spark engine end to end: programs generated for a universe with a ``spark``
endpoint run (python script, Jupyter notebook), each starting its own local JVM with a
Hive metastore (embedded Derby in the run's directory) and a warehouse beside it.

Tables are read back through a SparkSession on the same warehouse and metastore, in a
subprocess started once the program's JVM has exited (one JVM at a time), and compared
with what the served files say, computed here independently.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from aorist import (
    ComputedFromLocalData,
    CSVEncoding,
    DataSet,
    EndpointConfig,
    HiveTableStorage,
    MinioLocation,
    ORCEncoding,
    ParquetEncoding,
    SparkConfig,
    StaticDataTable,
    UndefinedTabularSchema,
    Universe,
    dag,
)

from conftest import dry_run, engine_steps_skipped, output_of, run_generated, touch_later
from fixtures_data import snap_dataset, snap_key, snap_like_edges, snap_like_gz

NAMES = ["ca-AstroPh", "ca-GrQc"]
EDGES = {"ca-AstroPh": 23, "ca-GrQc": 31}
ENDPOINTS = EndpointConfig(spark=SparkConfig(master="local[1]", warehouse_dir="spark-warehouse"))

# DuckDB's dialect: `//`, GROUP BY ALL and "quoted" names; sqlglot makes it Spark SQL.
BUCKETS_SQL = (
    'SELECT "from_id" // 1000 AS bucket, count(*) AS n FROM {edges} GROUP BY ALL ORDER BY bucket'
)


def assert_no_environment_value(spark_env, code: str) -> None:
    """The program reads its machine's settings at run time: none is written into it
    (Spark has no secret here; its paths and Java home stand for one)."""
    for key, value in spark_env.env.items():
        if key != "SPARK_LOCAL_IP":
            assert value not in code, key


def snap_set(base: str, encoding, dataset: str = "snap") -> DataSet:
    """The SNAP graphs as `dataset`, in `encoding`, with a table derived by SQL."""
    target = HiveTableStorage(location=MinioLocation(name=dataset), encoding=encoding)
    snap = snap_dataset(base, NAMES, dataset=dataset, target=target)
    snap.add_asset(
        StaticDataTable(
            name="buckets",
            schema=UndefinedTabularSchema(),
            setup=ComputedFromLocalData(
                source_asset_names={"edges": snap_key(NAMES[0])},
                target=HiveTableStorage(
                    location=MinioLocation(name=dataset), encoding=ParquetEncoding()
                ),
                sql=BUCKETS_SQL,
            ),
        )
    )
    return snap


def snap_universe(base: str, encoding) -> Universe:
    return Universe(name="spark_snap", datasets=[snap_set(base, encoding)], endpoints=ENDPOINTS)


def serve_snap(http_server) -> None:
    for name, count in EDGES.items():
        snap_like_gz(http_server.root / f"{name}.txt.gz", count)


def expected_buckets() -> list[list[int]]:
    counts = Counter(a // 1000 for a, _ in snap_like_edges(EDGES[NAMES[0]]))
    return [[bucket, counts[bucket]] for bucket in sorted(counts)]


def snap_state(spark_env, cwd: Path, schemas: tuple[str, ...] = ("snap",)) -> list:
    """Every table's rows (sorted), versions and locations, schema after schema."""
    queries = []
    for schema in schemas:
        for name in NAMES:
            queries.append(f"SELECT * FROM {schema}.{snap_key(name)} ORDER BY from_id, to_id")
        queries.append(f"SELECT * FROM {schema}.buckets ORDER BY bucket")
        for table in [*(snap_key(n) for n in NAMES), "buckets"]:
            queries.append(f"SHOW TBLPROPERTIES {schema}.{table} ('aorist.version')")
            queries.append(f"DESCRIBE FORMATTED {schema}.{table}")
    queries.append("SHOW TABLES IN _staging")
    return spark_env.query(cwd, queries)


def check_snap(spark_env, cwd: Path, formats: dict[str, str]) -> list:
    """Every table of each schema in `formats` is right, stored in its format."""
    state = snap_state(spark_env, cwd, tuple(formats))
    per_schema = len(NAMES) + 1 + 2 * (len(NAMES) + 1)
    for offset, fmt in zip(range(0, len(state) - 1, per_schema), formats.values(), strict=True):
        part = state[offset : offset + per_schema]
        for index, name in enumerate(NAMES):
            assert part[index] == sorted([a, b] for a, b in snap_like_edges(EDGES[name]))
        assert part[len(NAMES)] == expected_buckets()
        described = {row[0]: row[1] for row in part[len(NAMES) + 2]}
        assert fmt in described["Serde Library"].lower()
        assert described["Type"] == "EXTERNAL"
    assert state[-1] == []  # no staging table is left
    return state


def warehouse_files(cwd: Path) -> dict[str, int]:
    root = cwd / "spark-warehouse"
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def step_records(cwd: Path) -> dict[str, dict]:
    """The program's record of each step (version, outcome): a file per step beside
    the warehouse's tables."""
    records = (cwd / "spark-warehouse" / "_aorist" / "steps").glob("*.json")
    return {r["task"]: r for r in (json.loads(p.read_text("utf-8")) for p in records)}


def test_snap_and_a_sql_table_in_a_python_script(http_server, spark_env, tmp_path: Path) -> None:
    """One program (one JVM) writes the graphs as ORC tables and as Parquet tables."""
    spark_env.stop()
    serve_snap(http_server)
    universe = Universe(
        name="spark_snap",
        datasets=[
            snap_set(http_server.base_url, ORCEncoding(), "snap"),
            snap_set(http_server.base_url, ParquetEncoding(), "snap_parquet"),
        ],
        endpoints=ENDPOINTS,
    )
    code = dag(universe, ["AllAssetsComputed"], "python")
    assert_no_environment_value(spark_env, code)
    assert "sqlglot" in code and "SparkSession" in code
    proc = run_generated(code, tmp_path, env=spark_env.env)
    assert f"snap.{snap_key(NAMES[0])}: {EDGES[NAMES[0]]} rows, columns from_id, to_id" in (
        proc.stdout
    )
    formats = {"snap": "orc", "snap_parquet": "parquet"}
    state = check_snap(spark_env, tmp_path, formats)
    # Of each table's local temporary files only the download (the rerun's cache) stays.
    kept = sorted(p.name for p in (tmp_path / "tmp").rglob("*") if p.is_file())
    # (and the markers of the removed copies, kept as X.removed for the next run).
    assert kept and all(".download" in name or name.endswith(".removed") for name in kept), kept
    # Each step that made something recorded its version and outcome there, the
    # steps on local files (the program has no other lake) too.
    records = step_records(tmp_path)
    first = f"snap_{snap_key(NAMES[0])}"
    assert records[f"{first}_downloaded"]["outcome"] == "made", records
    assert records[f"{first}_stored_in_lake"]["outcome"] == "made", records
    assert records[f"{first}_table_published"]["outcome"] == "published", records
    assert records["snap_parquet_buckets_table_published"]["outcome"] == "published"
    assert all(record["version"] for record in records.values()), records
    assert (
        records[f"{first}_downloaded"]["version"] != records[f"{first}_stored_in_lake"]["version"]
    )
    files = warehouse_files(tmp_path)
    # A rerun changes nothing: same versions, rows, files and records; the Spark steps
    # say so.
    again = run_generated(code, tmp_path, env=spark_env.env).stdout
    assert engine_steps_skipped(again), again
    assert snap_state(spark_env, tmp_path, tuple(formats)) == state
    assert warehouse_files(tmp_path) == files


def test_a_dry_run_on_spark_says_what_is_missing_fresh_and_stale(
    http_server, spark_env, tmp_path: Path
) -> None:
    """The program's `--dry-run` with Spark: before a run, after it, after a source
    changed and after a recipe changed; the warehouse never changes meanwhile."""
    spark_env.stop()
    serve_snap(http_server)
    code = dag(snap_universe(http_server.base_url, ORCEncoding()), ["AllAssetsComputed"], "python")
    first, second = (snap_key(name) for name in NAMES)
    states, out = dry_run(code, tmp_path, False, spark_env.env)
    assert states[f"{first}_stored_in_lake"] == "missing", out
    assert states["buckets_table_published"] == "missing", out
    assert not (tmp_path / "spark-warehouse").exists() or warehouse_files(tmp_path) == {}

    run_generated(code, tmp_path, env=spark_env.env)
    files = warehouse_files(tmp_path)
    states, out = dry_run(code, tmp_path, True, spark_env.env)
    assert set(states.values()) == {"fresh"}, out

    # The first graph changes upstream: its chain and the table computed from it are
    # stale, the second graph's steps are not.
    snap_like_gz(http_server.root / f"{NAMES[0]}.txt.gz", EDGES[NAMES[0]] + 17, seed=7)
    touch_later(http_server.root / f"{NAMES[0]}.txt.gz")
    states, out = dry_run(code, tmp_path, False, spark_env.env)
    assert states[f"{first}_downloaded"] == "stale (source changed upstream)", out
    assert states[f"{first}_stored_in_lake"].startswith(f"stale (upstream {first}_"), out
    assert states["buckets_table_published"].startswith("stale (upstream "), out
    assert not [t for t, s in states.items() if t.startswith(second) and s != "fresh"], out
    assert warehouse_files(tmp_path) == files

    # A new version of the conversion recipe: its steps are stale, and say why.
    changed = code.replace(
        "def spark_convert_to_target(", "def spark_convert_to_target(  # version 2\n", 1
    )
    assert changed != code
    states, out = dry_run(changed, tmp_path, False, spark_env.env)
    assert states.get(f"{second}_converted_to_target_encoding") == (
        "stale (its version differs: recipe code or parameters changed)"
    ), out
    assert states[f"{second}_table_published"].startswith(f"stale (upstream {second}_"), out
    assert states[f"{second}_stored_in_lake"] == "fresh", out
    assert warehouse_files(tmp_path) == files


def test_a_kill_mid_publish_then_a_rerun_leaves_one_copy_of_each_row(
    http_server, spark_env, tmp_path: Path
) -> None:
    spark_env.stop()
    serve_snap(http_server)
    code = dag(snap_universe(http_server.base_url, ORCEncoding()), ["AllAssetsComputed"], "python")
    (tmp_path / "main.py").write_text(code, encoding="utf-8")
    table = snap_key(NAMES[1])
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        **spark_env.env,
    }
    proc = subprocess.Popen(
        [sys.executable, "main.py"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    seen = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if line.strip() == f"running {table}_table_published":
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, "".join(seen)
    # Its JVM (same process group) exits once its stdin pipe is closed: wait for it.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
    run_generated(code, tmp_path, env=spark_env.env)
    state = check_snap(spark_env, tmp_path, {"snap": "orc"})
    assert len(state[1]) == EDGES[NAMES[1]]


# --------------------------------------------------------------------------- wine


def wine_universe(base: str) -> Universe:
    """examples/wine.py's universe, with the wine table replicated into Spark."""
    from test_derived import wine_example

    example = wine_example.wine_universe(base)
    (wine,) = example.datasets
    assets = wine.assets if isinstance(wine.assets, list) else list(wine.assets.values())
    table = next(a for a in assets if a.name == "wine_table")
    spark_table = HiveTableStorage(location=MinioLocation(name="wine"), encoding=ParquetEncoding())
    replicated = DataSet(
        name="wine", datum_templates=wine.datum_templates, assets=[table]
    ).replicate_to_local(spark_table, "tmp/wine", CSVEncoding())
    for asset in assets:
        if asset.name != "wine_table":
            replicated.add_asset(asset)
    return Universe(name="wine_spark", datasets=[replicated], endpoints=ENDPOINTS)


def check_wine(spark_env, cwd: Path, csv_path: Path, n_rows: int) -> list:
    from test_derived import reference

    expected = reference(csv_path)
    queries = [
        "SELECT metric, value FROM wine.alcohol_model_metrics",
        "SELECT metric, value FROM wine.cultivar_model_metrics",
        "SELECT wine_id FROM wine.alcohol_predictions ORDER BY wine_id",
        "SELECT DISTINCT predicted_class FROM wine.cultivar_predictions",
        "SELECT count(*) FROM wine.wine_table",
    ]
    state = spark_env.query(cwd, queries)
    for index, model in enumerate(["alcohol_model", "cultivar_model"]):
        rows = state[index]
        assert [r[0] for r in rows] == list(expected[model])
        for metric, value in rows:
            assert value == pytest.approx(expected[model][metric], rel=1e-9, abs=1e-12)
        assert (cwd / "lake" / "models" / f"{model}.onnx").exists()
    assert [r[0] for r in state[2]] == list(range(1, n_rows + 1))
    assert {r[0] for r in state[3]} <= {"class_0", "class_1", "class_2"}
    assert state[4] == [[n_rows]]
    return state


@pytest.fixture
def wine_served(http_server) -> tuple[Universe, Path, int]:
    from test_derived import wine_example

    csv_path = http_server.root / "wine.csv"
    n_rows = wine_example.write_wine_csv(csv_path)
    return wine_universe(http_server.base_url), csv_path, n_rows


def test_wine_models_in_a_python_script(wine_served, spark_env, tmp_path: Path) -> None:
    spark_env.stop()
    universe, csv_path, n_rows = wine_served
    code = dag(universe, ["AllAssetsComputed"], "python")
    run_generated(code, tmp_path, env=spark_env.env)
    state = check_wine(spark_env, tmp_path, csv_path, n_rows)
    model = tmp_path / "lake" / "models" / "alcohol_model.onnx"
    before = model.stat().st_mtime_ns
    run_generated(code, tmp_path, env=spark_env.env)
    assert check_wine(spark_env, tmp_path, csv_path, n_rows) == state
    assert model.stat().st_mtime_ns == before


def test_snap_and_wine_in_a_notebook(http_server, spark_env, tmp_path: Path, monkeypatch) -> None:
    spark_env.stop()
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    for key, value in spark_env.env.items():
        monkeypatch.setenv(key, value)
    from test_derived import wine_example

    serve_snap(http_server)
    csv_path = http_server.root / "wine.csv"
    n_rows = wine_example.write_wine_csv(csv_path)
    snap = snap_universe(http_server.base_url, ORCEncoding())
    wine = wine_universe(http_server.base_url)
    universe = Universe(
        name="spark_notebook", datasets=[*snap.datasets, *wine.datasets], endpoints=ENDPOINTS
    )
    text = dag(universe, ["AllAssetsComputed"], "jupyter")
    assert_no_environment_value(spark_env, text)
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    check_snap(spark_env, tmp_path, {"snap": "orc"})
    check_wine(spark_env, tmp_path, csv_path, n_rows)


def test_a_broken_contract_on_spark_writes_no_version_and_keeps_the_table(
    spark_env, tmp_path: Path
) -> None:
    """Contracts are checked on the written rows before the version directory is
    renamed into place: a violation leaves the table at its version."""
    from test_contracts import BROKEN, FIX, GOOD, expected
    from test_contracts import universe as contracted
    from test_trust import Scripted

    spark_env.stop()
    served = Scripted()
    try:
        served.serve("/good", GOOD)
        served.serve("/bad", GOOD)
        lake = HiveTableStorage(location=MinioLocation(name="g"), encoding=ORCEncoding())
        code = dag(
            contracted(served.base, storage=lake, endpoints=ENDPOINTS),
            ["AllAssetsComputed"],
            "python",
        )
        run_generated(code, tmp_path, env=spark_env.env)
        versions = sorted(p.name for p in (tmp_path / "spark-warehouse").rglob("v-*"))
        body, said = BROKEN["regex"]
        served.serve("/bad", body)
        out = output_of(run_generated(code, tmp_path, expect_ok=False, env=spark_env.env))
    finally:
        served.shutdown()
        served.server_close()
    failed = "FAILED bad_converted_to_target_encoding: ContractViolation: "
    failed += f"g.bad: {said}; {FIX}"
    assert failed in out, out
    assert sorted(p.name for p in (tmp_path / "spark-warehouse").rglob("v-*")) == versions
    [bad] = spark_env.query(tmp_path, ["SELECT * FROM g.bad ORDER BY id"])
    assert [tuple(row) for row in bad] == expected(GOOD)
