"""The PostgreSQL engine end to end: programs generated for a universe whose tables are
`PostgresStorage` with a `postgres=PostgresConfig(...)` endpoint run against a real
PostgreSQL server (password login), in the python and airflow dialects.

Each test starts from an empty database. Tables are read back from the server and
compared with what the served data says, computed here independently.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from test_contracts import BROKEN, FIX, GOOD
from test_derived import EDGES, MEASURES, reference, serve_graphs, wine_example

from aorist import (
    Categorical,
    ComputedFromLocalData,
    CSVEncoding,
    CSVHeader,
    DataSet,
    EndpointConfig,
    Float64,
    IdentifierTuple,
    KeyInt64Identifier,
    LocalFileStorage,
    LocalFileSystemLocation,
    NumericIdentifier,
    ONNXEncoding,
    PostgresConfig,
    PostgresLocation,
    PostgresStorage,
    PredictionsFromTrainedCategoricalMeasure,
    PredictionsFromTrainedFloatMeasure,
    RandomForestClassificationAlgorithm,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    SupervisedModel,
    SVMRegressionAlgorithm,
    TrainedCategoricalMeasure,
    TrainedFloatMeasure,
    UndefinedTabularSchema,
    Universe,
    WebLocation,
    dag,
    default_tabular_schema,
)

from conftest import (
    _minimal_env,
    airflow,
    dry_run,
    engine_steps_skipped,
    run_generated,
    touch_later,
)
from fixtures_data import snap_dataset, snap_like_edges, snap_like_gz


@pytest.fixture
def pg(postgres_server, monkeypatch):
    """The server with an empty database; its password in this process's environment
    too (Airflow's runner passes the environment on)."""
    postgres_server.reset()
    for name, value in postgres_server.env.items():
        monkeypatch.setenv(name, value)
    return postgres_server


def endpoints(pg) -> EndpointConfig:
    return EndpointConfig(
        postgres=PostgresConfig(
            server=pg.host,
            port=pg.port,
            username=pg.user,
            password_env=pg.password_env,
            database=pg.dbname,
        )
    )


def storage(pg, schema: str) -> PostgresStorage:
    return PostgresStorage(location=PostgresLocation(database=pg.dbname, schema=schema))


def rows(pg, table: str, order: str = "1") -> list[tuple]:
    return pg.query(f"SELECT * FROM {table} ORDER BY {order}")  # noqa: S608 - test names


def state(pg) -> list[tuple]:
    """Every table of the database (but the program's own, in `_aorist`) with its oid
    and version: a rerun that changes nothing keeps them all (and leaves no staging
    table behind)."""
    return pg.query(
        "SELECT n.nspname, c.relname, c.oid::bigint, obj_description(c.oid, 'pg_class')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE"
        " c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_aorist')"
        " AND n.nspname NOT LIKE 'pg\\_toast%' ORDER BY 1, 2"
    )


def steps(pg) -> list[tuple]:
    """(task, outcome, version, finished_at) of each row of the program's steps table,
    none when it does not exist."""
    if pg.query("SELECT to_regclass('_aorist.steps')") == [(None,)]:
        return []
    return pg.query("SELECT task, outcome, version, finished_at FROM _aorist.steps ORDER BY 1")


def assert_no_secret(code: str, pg) -> None:
    assert pg.password not in code
    assert pg.password_env in code


def run(code: str, cwd: Path, pg, expect_ok: bool = True) -> subprocess.CompletedProcess:
    return run_generated(code, cwd, expect_ok=expect_ok, env=pg.env)


def run_airflow(airflow_home, code: str, dag_id: str, cwd: Path) -> dict:
    cwd.mkdir(parents=True, exist_ok=True)
    report = airflow(airflow_home, code, dag_id, cwd, "run")
    assert report["import_errors"] == {}
    assert report["failed"] == [], report
    return report


# ------------------------------------------------------------------------------ SNAP-like

NAMES = ["ca-GrQc", "ca-HepTh"]


def snap_universe(http_server, pg) -> tuple[Universe, dict[str, list]]:
    """Two SNAP-like graphs (gzip TSV under four comment lines) into schema `snap`."""
    edges = {}
    for number, name in enumerate(NAMES):
        snap_like_gz(http_server.root / f"{name}.txt.gz", 300 + 50 * number, seed=number)
        edges[name.lower().replace("-", "_")] = snap_like_edges(300 + 50 * number, seed=number)
    dataset = snap_dataset(http_server.base_url, NAMES, target=storage(pg, "snap"))
    universe = Universe(name="my_cluster", datasets=[dataset], endpoints=endpoints(pg))
    return universe, edges


def check_snap(pg, edges: dict[str, list]) -> None:
    for name, expected in edges.items():
        assert rows(pg, f"snap.{name}", "1, 2") == sorted(tuple(r) for r in expected)
        assert pg.query(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = 'snap' AND table_name = %s ORDER BY ordinal_position",
            [name],
        ) == [("from_id", "bigint", "NO"), ("to_id", "bigint", "NO")]


def test_snap_replication_in_a_python_script(http_server, pg, tmp_path) -> None:
    universe, edges = snap_universe(http_server, pg)
    code = dag(universe, ["AllAssetsComputed"], "python")
    assert_no_secret(code, pg)
    proc = run(code, tmp_path, pg)
    check_snap(pg, edges)
    for name, expected in edges.items():
        assert f"snap.{name}: {len(expected)} rows, columns from_id, to_id" in proc.stdout
    before = state(pg)
    assert [t[:2] for t in before] == [("snap", "ca_grqc"), ("snap", "ca_hepth")]
    # Of each table's local temporary files only the download (the rerun's cache) stays.
    kept = sorted(p.name for p in (tmp_path / "tmp").rglob("*") if p.is_file())
    # (and the markers of the removed copies, kept as X.removed for the next run).
    assert kept and all(".download" in name or name.endswith(".removed") for name in kept), kept
    recorded = steps(pg)
    again = run(code, tmp_path, pg).stdout
    assert state(pg) == before
    # Nothing was made again, so nothing was recorded again.
    assert steps(pg) == recorded
    # The steps on the server find their tables up to date, and say so.
    assert engine_steps_skipped(again), again
    # A dry run asks the server (read-only) and finds every step fresh.
    _, dry = dry_run(code, tmp_path, True, pg.env)
    assert dry.strip().endswith(" 0 stale, 0 missing"), dry
    assert state(pg) == before


@pytest.mark.parametrize("way", ["dagster", "prefect", "hamilton"])
def test_snap_on_postgresql_in_dagster_prefect_and_hamilton(
    way, http_server, pg, tmp_path, tool_homes
) -> None:
    """The orchestrator dialects run the PostgreSQL steps as the script does: the tables
    are right, the steps are recorded on the server, and a rerun changes nothing."""
    from test_orchestrators import WAYS, run_tool

    universe, edges = snap_universe(http_server, pg)
    code = dag(universe, ["AllAssetsComputed"], WAYS[way][0])
    assert_no_secret(code, pg)
    run_tool(way, code, tmp_path, tool_homes, "my_cluster", env=pg.env)
    check_snap(pg, edges)
    before, recorded = state(pg), steps(pg)
    tasks = {row[0] for row in recorded}
    assert {f"{name}_downloaded" for name in edges} <= tasks, tasks
    assert {f"{name}_table_published" for name in edges} <= tasks, tasks
    _, again = run_tool(way, code, tmp_path, tool_homes, "my_cluster", env=pg.env)
    assert state(pg) == before
    assert steps(pg) == recorded
    for name in edges:
        assert f"skipped {name}_table_published: up to date" in again, again[-4000:]


def test_a_dry_run_on_postgresql_says_what_is_missing_fresh_and_stale_and_changes_nothing(
    http_server, pg, tmp_path
) -> None:
    """The program's `--dry-run` on PostgreSQL: its connections are read-only, a step
    that would write is not up to date. Before a run, after it, after a source
    changed and after a recipe changed; the server's tables never change meanwhile."""
    universe, _ = snap_universe(http_server, pg)
    code = dag(universe, ["AllAssetsComputed"], "python")
    states, out = dry_run(code, tmp_path, False, pg.env)
    assert states["ca_grqc_stored_in_lake"] == "missing", out
    assert states["ca_grqc_table_published"] == "missing", out
    assert state(pg) == [] and not (tmp_path / "tmp").exists(), out

    run(code, tmp_path, pg)
    before = state(pg)
    states, out = dry_run(code, tmp_path, True, pg.env)
    assert set(states.values()) == {"fresh"}, out

    # ca-GrQc changes upstream: its chain is stale, ca-HepTh's is not.
    snap_like_gz(http_server.root / "ca-GrQc.txt.gz", 320, seed=7)
    touch_later(http_server.root / "ca-GrQc.txt.gz")
    states, out = dry_run(code, tmp_path, False, pg.env)
    assert states["ca_grqc_downloaded"] == "stale (source changed upstream)", out
    assert states["ca_grqc_stored_in_lake"].startswith("stale (upstream ca_grqc_"), out
    assert states["ca_grqc_table_published"].startswith("stale (upstream "), out
    assert not [t for t, s in states.items() if t.startswith("ca_hepth") and s != "fresh"]
    assert state(pg) == before

    # A new version of the loading recipe: both tables' loads are stale, and say why.
    changed = code.replace(
        "def postgres_store_in_lake(", "def postgres_store_in_lake(  # version 2\n", 1
    )
    assert changed != code
    states, out = dry_run(changed, tmp_path, False, pg.env)
    assert states.get("ca_hepth_stored_in_lake") == (
        "stale (its version differs: recipe code or parameters changed)"
    ), out
    assert states["ca_hepth_table_published"].startswith("stale (upstream ca_hepth_"), out
    assert states["ca_hepth_downloaded"] == "fresh", out
    assert state(pg) == before

    # The run makes what was stale; then everything is fresh.
    run(changed, tmp_path, pg)
    assert state(pg) != before
    states, out = dry_run(changed, tmp_path, True, pg.env)
    assert set(states.values()) == {"fresh"}, out


def test_each_step_s_version_and_outcome_are_in_the_server_s_steps_table(
    http_server, pg, tmp_path
) -> None:
    """`_aorist.steps` on the server: a step on it records itself in the transaction
    of what it made (a published table's step with the table's version); the run adds
    the steps on local files and those that failed as it ends."""
    universe, edges = snap_universe(http_server, pg)
    code = dag(universe, ["AllAssetsComputed"], "python")
    served = http_server.root / "ca-HepTh.txt.gz"
    kept = served.read_bytes()
    served.unlink()
    proc = run(code, tmp_path, pg, expect_ok=False)
    assert "1 task(s) failed" in proc.stderr, proc.stderr
    outcomes = {task: outcome for task, outcome, _, _ in steps(pg)}
    assert outcomes == {
        "ca_grqc_downloaded": "made",
        "ca_grqc_decompressed": "made",
        "ca_grqc_header_removed": "made",
        "ca_grqc_converted_to_csv": "made",
        "ca_grqc_stored_in_lake": "made",
        "ca_grqc_converted_to_target_encoding": "made",
        "ca_grqc_table_published": "published",
        "ca_hepth_downloaded": "failed",
    }, outcomes
    versions = {task: version for task, _, version, _ in steps(pg)}
    comment = "SELECT obj_description('snap.ca_grqc'::regclass, 'pg_class')"
    assert versions["ca_grqc_table_published"] == pg.query(comment)[0][0]
    assert versions["ca_grqc_converted_to_target_encoding"] == pg.query(comment)[0][0]
    assert versions["ca_grqc_downloaded"] != versions["ca_grqc_decompressed"]

    # Served again: ca-HepTh's steps are made, ca-GrQc's rows stay as they were.
    served.write_bytes(kept)
    before = {row[0]: row for row in steps(pg) if row[0].startswith("ca_grqc")}
    run(code, tmp_path, pg)
    check_snap(pg, edges)
    after = {row[0]: row for row in steps(pg)}
    assert {task: after[task] for task in before} == before
    assert after["ca_hepth_downloaded"][1] == "made"
    assert after["ca_hepth_table_published"][1] == "published"


def test_a_kill_mid_publish_then_rerun_leaves_each_row_once(http_server, pg, tmp_path) -> None:
    universe, edges = snap_universe(http_server, pg)
    code = dag(universe, ["AllAssetsComputed"], "python")
    (tmp_path / "main.py").write_text(code, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "main.py"],
        cwd=tmp_path,
        env={**_minimal_env(), **pg.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    killed = False
    for line in proc.stdout:
        if line.strip() == "running ca_hepth_table_published":
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
    proc.wait(timeout=60)
    proc.stdout.close()
    assert killed and proc.returncode == -signal.SIGKILL
    run(code, tmp_path, pg)
    check_snap(pg, edges)
    assert [t[:2] for t in state(pg)] == [("snap", "ca_grqc"), ("snap", "ca_hepth")]


def test_wrong_credentials_fail_clearly_and_write_nothing(http_server, pg, tmp_path) -> None:
    universe, _ = snap_universe(http_server, pg)
    code = dag(universe, ["AllAssetsComputed"], "python")
    proc = run_generated(code, tmp_path, expect_ok=False, env={pg.password_env: "wrong-pw-1"})
    output = proc.stdout + proc.stderr
    assert f"cannot connect to PostgreSQL aorist@127.0.0.1:{pg.port}/lake" in output
    assert f"fix: check that the server runs there and that {pg.password_env}" in output
    assert "wrong-pw-1" not in output
    assert state(pg) == []


# ------------------------------------------------------------------------ derived tables


def graph_universe(base_url: str, pg) -> Universe:
    """Two datasets in two schemas: SQL (with DuckDB-only syntax that sqlglot translates)
    joining them, a chain of SQL tables and a function asset."""
    from graph_module import out_degree  # tests/cases, on the path test_derived sets

    edge = IdentifierTuple(
        name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
    )
    measure = RowStruct(
        name="measure",
        attributes=[KeyInt64Identifier("node"), Float64("weight"), Float64("size")],
    )
    degree_row = IdentifierTuple(
        name="degree_row", attributes=[NumericIdentifier("node"), NumericIdentifier("degree")]
    )

    def remote(name: str, template) -> StaticDataTable:
        return StaticDataTable(
            name=name,
            schema=default_tabular_schema(template),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(address=f"{base_url}/{name}.csv"),
                    encoding=CSVEncoding(header=CSVHeader(num_lines=1)),
                )
            ),
        )

    def sql(name: str, schema: str, sources, query: str, declared=None) -> StaticDataTable:
        return StaticDataTable(
            name=name,
            schema=declared or UndefinedTabularSchema(),
            setup=ComputedFromLocalData(
                source_asset_names=sources, target=storage(pg, schema), sql=query
            ),
        )

    graphs = DataSet(
        name="graphs",
        datum_templates=[edge, degree_row],
        assets=[
            remote("edges", edge),
            sql(
                "degrees",
                "graphs",
                {"edges": "edges"},
                "SELECT from_id AS node, count(*) AS degree FROM {edges} GROUP BY 1 ORDER BY 1",
                default_tabular_schema(degree_row),
            ),
            # ::DOUBLE and ifnull are DuckDB's; PostgreSQL knows neither.
            sql(
                "hubs",
                "graphs",
                {"d": "degrees"},
                "SELECT node, degree::DOUBLE / 2 AS half, ifnull(NULL, 'hub') AS tag"
                " FROM {d} WHERE degree > 1 ORDER BY 1",
            ),
            sql(
                "hub_count",
                "graphs",
                {"hubs": "hubs"},
                "SELECT count(*) AS n, '{{literal}}' AS braces FROM {hubs}",
            ),
            StaticDataTable(
                name="out_degree",
                schema=UndefinedTabularSchema(),
                setup=ComputedFromLocalData(
                    source_asset_names={"edges": "edges"},
                    target=storage(pg, "graphs"),
                    function=out_degree,
                ),
            ),
        ],
    )
    nodes = DataSet(
        name="nodes",
        datum_templates=[measure],
        assets=[
            remote("measures", measure),
            sql(
                "hub_measures",
                "nodes",
                {"hubs": "graphs.hubs", "m": "measures"},
                "SELECT m.node, m.weight FROM {m} AS m JOIN {hubs} AS h USING (node) ORDER BY 1",
            ),
        ],
    )
    datasets = [
        graphs.replicate_to_local(storage(pg, "graphs"), "tmp/graphs", CSVEncoding()),
        nodes.replicate_to_local(storage(pg, "nodes"), "tmp/nodes", CSVEncoding()),
    ]
    return Universe(name="graph_lab", datasets=datasets, endpoints=endpoints(pg))


def check_graph_tables(pg) -> None:
    degrees: dict[int, int] = {}
    for a, _ in EDGES:
        degrees[a] = degrees.get(a, 0) + 1
    assert rows(pg, "graphs.edges", "1, 2") == sorted(EDGES)
    assert rows(pg, "graphs.degrees") == sorted(degrees.items())
    hubs = sorted(n for n, d in degrees.items() if d > 1)
    assert rows(pg, "graphs.hubs") == [(n, degrees[n] / 2, "hub") for n in hubs]
    assert rows(pg, "graphs.hub_count") == [(len(hubs), "{literal}")]
    assert rows(pg, "graphs.out_degree") == sorted(degrees.items())
    weights = {n: w for n, w, _ in MEASURES}
    assert rows(pg, "nodes.measures") == sorted(MEASURES)
    assert rows(pg, "nodes.hub_measures") == [(n, weights[n]) for n in hubs]
    assert pg.query(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'graphs' AND table_name = 'hubs' ORDER BY ordinal_position"
    ) == [("node", "bigint"), ("half", "double precision"), ("tag", "text")]


def test_sql_derived_tables_in_a_python_script(http_server, pg, tmp_path) -> None:
    serve_graphs(http_server.root)
    code = dag(graph_universe(http_server.base_url, pg), ["AllAssetsComputed"], "python")
    assert_no_secret(code, pg)
    assert "sqlglot" in code
    run(code, tmp_path, pg)
    check_graph_tables(pg)
    before = state(pg)
    run(code, tmp_path, pg)
    assert state(pg) == before


# ------------------------------------------------------------------------------ the wine


def wine_universe(base_url: str, pg) -> Universe:
    """examples/wine.py's universe with every table in PostgreSQL schema `wine`."""
    measurements = wine_example.MEASUREMENTS
    wine_row = RowStruct(
        name="wine_row",
        attributes=[
            KeyInt64Identifier("wine_id"),
            Categorical("class", comment="the cultivar"),
            *(Float64(name) for name in measurements),
        ],
    )
    models = LocalFileStorage(
        location=LocalFileSystemLocation(path="models"), encoding=ONNXEncoding()
    )
    wine = DataSet(
        name="wine",
        datum_templates=[wine_row],
        assets=[
            StaticDataTable(
                name="wine_table",
                schema=default_tabular_schema(wine_row),
                setup=RemoteStorageSetup(
                    remote=RemoteStorage(
                        location=WebLocation(address=f"{base_url}/wine.csv"),
                        encoding=CSVEncoding(header=CSVHeader(num_lines=1)),
                    )
                ),
            ),
            SupervisedModel(
                name="alcohol_model",
                template=TrainedFloatMeasure(
                    name="predicted_alcohol", features=wine_example.FEATURES, objective="alcohol"
                ),
                algorithm=SVMRegressionAlgorithm(),
                setup=ComputedFromLocalData(
                    source_asset_names={"training_dataset": "wine_table"}, target=models
                ),
            ),
            StaticDataTable(
                name="alcohol_predictions",
                schema=default_tabular_schema(
                    PredictionsFromTrainedFloatMeasure(
                        name="predicted_alcohol", key_attributes=[KeyInt64Identifier("wine_id")]
                    )
                ),
                setup=ComputedFromLocalData(
                    source_asset_names={"model": "alcohol_model", "data": "wine_table"},
                    target=storage(pg, "wine"),
                ),
            ),
            SupervisedModel(
                name="cultivar_model",
                template=TrainedCategoricalMeasure(
                    name="predicted_class", features=measurements, objective="class"
                ),
                algorithm=RandomForestClassificationAlgorithm(n_estimators=50),
                setup=ComputedFromLocalData(
                    source_asset_names={"training_dataset": "wine_table"}, target=models
                ),
            ),
            StaticDataTable(
                name="cultivar_predictions",
                schema=default_tabular_schema(
                    PredictionsFromTrainedCategoricalMeasure(
                        name="predicted_class", key_attributes=[KeyInt64Identifier("wine_id")]
                    )
                ),
                setup=ComputedFromLocalData(
                    source_asset_names={"model": "cultivar_model", "data": "wine_table"},
                    target=storage(pg, "wine"),
                ),
            ),
        ],
    )
    replicated = wine.replicate_to_local(storage(pg, "wine"), "tmp/wine", CSVEncoding())
    return Universe(name="wine_ml", datasets=[replicated], endpoints=endpoints(pg))


def check_wine(pg, lake: Path, csv_path: Path, n_rows: int) -> None:
    for model, metrics in reference(csv_path).items():
        found = pg.query(f"SELECT metric, value FROM wine.{model}_metrics")  # noqa: S608
        assert [r[0] for r in found] == list(metrics)
        for metric, value in found:
            assert value == pytest.approx(metrics[metric], rel=1e-9, abs=1e-12), (model, metric)
    session = onnxruntime.InferenceSession(
        str(lake / "models" / "alcohol_model.onnx"), providers=["CPUExecutionProvider"]
    )
    columns = ", ".join(f'"{c}"' for c in wine_example.FEATURES)
    wine = pg.query(f"SELECT wine_id, {columns} FROM wine.wine_table ORDER BY 1")  # noqa: S608
    assert [r[0] for r in wine] == list(range(1, n_rows + 1))
    features = np.array([r[1:] for r in wine], np.float32)
    scored = session.run(None, {"input": features})[0].reshape(-1)
    predicted = rows(pg, "wine.alcohol_predictions")
    assert [r[0] for r in predicted] == list(range(1, n_rows + 1))
    assert [r[1] for r in predicted] == pytest.approx([float(v) for v in scored])
    labels = rows(pg, "wine.cultivar_predictions")
    assert [r[0] for r in labels] == list(range(1, n_rows + 1))
    assert {r[1] for r in labels} <= {"class_0", "class_1", "class_2"}
    assert len({r[1] for r in labels}) > 1


@pytest.fixture
def wine_served(http_server, pg):
    csv_path = http_server.root / "wine.csv"
    n_rows = wine_example.write_wine_csv(csv_path)
    return wine_universe(http_server.base_url, pg), csv_path, n_rows


def test_wine_models_in_a_python_script(wine_served, pg, tmp_path) -> None:
    universe, csv_path, n_rows = wine_served
    code = dag(universe, ["AllAssetsComputed"], "python")
    assert_no_secret(code, pg)
    run(code, tmp_path, pg)
    check_wine(pg, tmp_path / "lake", csv_path, n_rows)
    before = state(pg)
    model = tmp_path / "lake" / "models" / "alcohol_model.onnx"
    mtime = model.stat().st_mtime_ns
    run(code, tmp_path, pg)
    assert state(pg) == before
    assert model.stat().st_mtime_ns == mtime


# ------------------------------------------------------------------------------- airflow


def test_snap_and_sql_tables_in_airflow(http_server, pg, airflow_home, tmp_path) -> None:
    universe, edges = snap_universe(http_server, pg)
    code = dag(universe, ["AllAssetsComputed"], "airflow")
    assert_no_secret(code, pg)
    run_airflow(airflow_home, code, "my_cluster", tmp_path / "snap")
    check_snap(pg, edges)
    serve_graphs(http_server.root)
    code = dag(graph_universe(http_server.base_url, pg), ["AllAssetsComputed"], "airflow")
    assert_no_secret(code, pg)
    made = run_airflow(airflow_home, code, "graph_lab", tmp_path / "graphs")
    check_graph_tables(pg)
    # Each table is announced with the version its comment records ...
    uris = [uri for uri, _ in made["asset_events"]]
    assert uris and all(uri.startswith("postgres://") for uri in uris)
    assert all(version for _, version in made["asset_events"]), made["asset_events"]
    before = state(pg)
    again = run_airflow(airflow_home, code, "graph_lab", tmp_path / "graphs")
    assert state(pg) == before
    # ... and a rerun that changed nothing announces nothing.
    assert again["asset_events"] == [], again["asset_events"]


def test_wine_models_in_airflow(wine_served, pg, airflow_home, tmp_path) -> None:
    universe, csv_path, n_rows = wine_served
    code = dag(universe, ["AllAssetsComputed"], "airflow")
    assert_no_secret(code, pg)
    run_airflow(airflow_home, code, "wine_ml", tmp_path)
    check_wine(pg, tmp_path / "lake", csv_path, n_rows)
    before = state(pg)
    run_airflow(airflow_home, code, "wine_ml", tmp_path)
    assert state(pg) == before


def contracted_on(pg):
    """(server, universe): test_contracts' tables `good` and `bad` (both served good
    rows) on PostgreSQL."""
    from test_contracts import GOOD
    from test_contracts import universe as contracted
    from test_trust import Scripted

    served = Scripted()
    served.serve("/good", GOOD)
    served.serve("/bad", GOOD)
    return served, contracted(served.base, storage=storage(pg, "g"), endpoints=endpoints(pg))


def test_a_broken_contract_on_postgresql_rolls_back_and_keeps_the_previous_rows(
    pg, tmp_path
) -> None:
    """Contracts are checked in the transaction that fills the new table: a violation
    rolls it back, the published table keeps its rows, and the step says why."""
    served, universe = contracted_on(pg)
    try:
        code = dag(universe, ["AllAssetsComputed"], "python")
        run(code, tmp_path, pg)
        before = rows(pg, "g.bad")
        assert len(before) == 3
        for contract in ("min", "regex", "unique"):
            body, said = BROKEN[contract]
            served.serve("/bad", body)
            proc = run(code, tmp_path, pg, expect_ok=False)
            out = proc.stdout + proc.stderr
            failed = "FAILED bad_converted_to_target_encoding: ContractViolation: "
            failed += f"g.bad: {said}; {FIX}"
            assert failed in out, out
            assert rows(pg, "g.bad") == before
            # No new table is left half made (the staging table waits for the rerun).
            assert [t[:2] for t in state(pg) if t[0] == "g"] == [("g", "bad"), ("g", "good")]
        # Fixed upstream: published, and a rerun changes nothing.
        served.serve("/bad", GOOD.replace(b"0.5", b"0.25"))
        run(code, tmp_path, pg)
        assert rows(pg, "g.bad") != before and len(rows(pg, "g.bad")) == 3
        published = state(pg)
        run(code, tmp_path, pg)
        assert state(pg) == published
    finally:
        served.shutdown()
        served.server_close()


def test_a_broken_contract_fails_its_airflow_task_on_postgresql(pg, airflow_home, tmp_path) -> None:
    """In Airflow too: the bad table's conversion task fails, the table keeps its rows
    and announces nothing; the good table's chain succeeds."""
    served, universe = contracted_on(pg)
    try:
        code = dag(universe, ["AllAssetsComputed"], "airflow")
        run_airflow(airflow_home, code, "contracts", tmp_path)
        before = rows(pg, "g.bad")
        served.serve("/bad", BROKEN["accepted_values"][0])
        report = airflow(airflow_home, code, "contracts", tmp_path, "run")
    finally:
        served.shutdown()
        served.server_close()
    chain = "g.downloaded_to_temporary_files_removed"
    assert f"{chain}.converted_to_target_encoding[1]" in report["failed"], report["failed"]
    assert not [task for task in report["failed"] if task.endswith("[0]")], report["failed"]
    assert rows(pg, "g.bad") == before
    assert not [uri for uri, _ in report["asset_events"] if uri.endswith("/bad")]
