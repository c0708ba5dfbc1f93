"""Derived tables, function assets and models, end to end: every test runs generated code.

The wine data is scikit-learn's copy of UCI wine, written out as the CSV the loopback
server serves; metrics are compared with what scikit-learn gives for the documented
split (numbers, not thresholds).
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import os
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import onnxruntime
import pytest
from nbclient import NotebookClient

from aorist import (
    ComputedFromLocalData,
    CSVEncoding,
    CSVHeader,
    DataSet,
    Float64,
    GzipCompression,
    HiveTableStorage,
    IdentifierTuple,
    KeyInt64Identifier,
    MinioLocation,
    NumericIdentifier,
    ORCEncoding,
    ParquetEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    TSVEncoding,
    UndefinedTabularSchema,
    Universe,
    WebLocation,
    dag,
    default_tabular_schema,
)

from conftest import airflow, lake_columns, lake_query, output_of, run_generated

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent / "cases"))
_spec = importlib.util.spec_from_file_location("wine_example", ROOT / "examples" / "wine.py")
assert _spec is not None and _spec.loader is not None
wine_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wine_example)

# --------------------------------------------------------------------------- the wine models


def reference(csv_path: Path) -> dict[str, dict[str, float]]:
    """The documented training, done by hand with scikit-learn on the served CSV."""
    import csv

    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        mean_absolute_error,
        mean_squared_error,
        r2_score,
    )
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVR

    with csv_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    features = np.array([[float(r[c]) for c in wine_example.FEATURES] for r in rows])
    alcohol = np.array([float(r["alcohol"]) for r in rows])
    x_train, x_test, y_train, y_test = train_test_split(
        features, alcohol, test_size=0.2, random_state=0
    )
    predicted = SVR(kernel="rbf", C=1.0).fit(x_train, y_train).predict(x_test)
    regression = {
        "r2": r2_score(y_test, predicted),
        "mae": mean_absolute_error(y_test, predicted),
        "rmse": math.sqrt(mean_squared_error(y_test, predicted)),
        "n_train": len(x_train),
        "n_test": len(x_test),
    }
    everything = np.array([[float(r[c]) for c in wine_example.MEASUREMENTS] for r in rows])
    labels = np.array([r["class"] for r in rows])
    x_train, x_test, y_train, y_test = train_test_split(
        everything, labels, test_size=0.2, random_state=0
    )
    forest = RandomForestClassifier(n_estimators=50, max_depth=None, random_state=0)
    predicted = forest.fit(x_train, y_train).predict(x_test)
    classification = {
        "accuracy": accuracy_score(y_test, predicted),
        "f1_macro": f1_score(y_test, predicted, average="macro"),
        "n_train": len(x_train),
        "n_test": len(x_test),
    }
    return {"alcohol_model": regression, "cultivar_model": classification}


def check_wine_lake(cwd: Path, csv_path: Path, n_rows: int) -> None:
    expected = reference(csv_path)
    for model, metrics in expected.items():
        rows = lake_query(cwd, f"SELECT metric, value FROM wine.{model}_metrics")
        assert [r[0] for r in rows] == list(metrics), rows
        for metric, value in rows:
            assert value == pytest.approx(metrics[metric], rel=1e-9, abs=1e-12), (model, metric)
        assert lake_columns(cwd, f"wine.{model}_metrics") == [
            ("metric", "VARCHAR"),
            ("value", "DOUBLE"),
        ]
        session = onnxruntime.InferenceSession(
            str(cwd / "lake" / "models" / f"{model}.onnx"), providers=["CPUExecutionProvider"]
        )
        assert len(session.get_inputs()) == 1
    assert lake_columns(cwd, "wine.alcohol_predictions") == [
        ("wine_id", "BIGINT"),
        ("predicted_alcohol", "DOUBLE"),
    ]
    assert lake_columns(cwd, "wine.cultivar_predictions") == [
        ("wine_id", "BIGINT"),
        ("predicted_class", "VARCHAR"),
    ]
    for table in ("alcohol_predictions", "cultivar_predictions"):
        ids = [r[0] for r in lake_query(cwd, f"SELECT wine_id FROM wine.{table}")]
        assert ids == list(range(1, n_rows + 1))
    # The predictions are the ONNX model's for every row of the wine table.
    session = onnxruntime.InferenceSession(
        str(cwd / "lake" / "models" / "alcohol_model.onnx"), providers=["CPUExecutionProvider"]
    )
    columns = ", ".join(f'"{c}"' for c in wine_example.FEATURES)
    features = np.array(lake_query(cwd, f"SELECT {columns} FROM wine.wine_table"), np.float32)
    scored = session.run(None, {session.get_inputs()[0].name: features})[0].reshape(-1)
    predicted = [
        r[0] for r in lake_query(cwd, "SELECT predicted_alcohol FROM wine.alcohol_predictions")
    ]
    assert predicted == pytest.approx([float(v) for v in scored])
    labels = {
        r[0] for r in lake_query(cwd, "SELECT predicted_class FROM wine.cultivar_predictions")
    }
    assert labels <= {"class_0", "class_1", "class_2"} and len(labels) > 1


def lake_state(cwd: Path) -> tuple[list, dict[str, int]]:
    """What a rerun must leave alone: the published versions and every lake file."""
    published = lake_query(cwd, "SELECT * FROM _aorist.published ORDER BY 1, 2")
    files = {
        str(p.relative_to(cwd)): p.stat().st_mtime_ns
        for p in sorted((cwd / "lake").rglob("*"))
        if p.is_file() and not p.name.startswith("lake.duckdb") and ".lock" not in p.parts
    }
    return published, files


@pytest.fixture
def wine_served(http_server) -> tuple[Universe, Path, int]:
    csv_path = http_server.root / "wine.csv"
    n_rows = wine_example.write_wine_csv(csv_path)
    return wine_example.wine_universe(http_server.base_url), csv_path, n_rows


def test_wine_models_in_a_python_script(wine_served, tmp_path: Path) -> None:
    universe, csv_path, n_rows = wine_served
    code = dag(universe, ["AllAssetsComputed"], "python")
    run_generated(code, tmp_path)
    check_wine_lake(tmp_path, csv_path, n_rows)
    before = lake_state(tmp_path)
    run_generated(code, tmp_path)
    assert lake_state(tmp_path) == before


def test_wine_models_in_airflow(wine_served, airflow_home: Path, tmp_path: Path) -> None:
    universe, csv_path, n_rows = wine_served
    code = dag(universe, ["AllAssetsComputed"], "airflow")
    report = airflow(airflow_home, code, "wine_ml", tmp_path, "run")
    assert report["import_errors"] == {}
    assert report["failed"] == [], report
    check_wine_lake(tmp_path, csv_path, n_rows)


def test_wine_models_in_a_notebook(wine_served, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    universe, csv_path, n_rows = wine_served
    notebook = nbformat.reads(dag(universe, ["AllAssetsComputed"], "jupyter"), as_version=4)
    nbformat.validate(notebook)
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    check_wine_lake(tmp_path, csv_path, n_rows)


# --------------------------------------------------------------------------- derived tables

EDGES = [(1, 2), (1, 3), (2, 3), (3, 1), (4, 1), (1, 4)]
MEASURES = [(1, 0.5, 2.0), (2, 1.5, 4.0), (3, 2.5, 6.5), (4, 3.5, 7.0)]


def serve_graphs(root: Path) -> None:
    # The edges also as SNAP publishes its graphs: gzip TSV under four comment lines.
    header = "# Directed graph\n# Nodes: 4 Edges: 6\n# sample\n# FromNodeId\tToNodeId\n"
    body = header + "".join(f"{a}\t{b}\n" for a, b in EDGES)
    (root / "edges.txt.gz").write_bytes(gzip.compress(body.encode(), mtime=0))
    (root / "edges.csv").write_text(
        "from_id,to_id\n" + "".join(f"{a},{b}\n" for a, b in EDGES), encoding="utf-8"
    )
    (root / "measures.csv").write_text(
        "node,weight,size\n" + "".join(f"{n},{w},{s}\n" for n, w, s in MEASURES),
        encoding="utf-8",
    )


def graph_universe(base_url: str, target_encoding=None, snap: bool = False) -> Universe:
    """Two datasets; SQL joining them, a chain of three SQL tables and a function asset.

    With `snap`, the edges are read as SNAP publishes graphs (gzip TSV, 4 header lines).
    """
    from graph_module import out_degree

    edge = IdentifierTuple(
        name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
    )
    measure = RowStruct(
        name="measure",
        attributes=[KeyInt64Identifier("node"), Float64("weight"), Float64("size")],
    )
    lake = HiveTableStorage(
        location=MinioLocation(name="derived"),
        encoding=target_encoding or ParquetEncoding(),
    )

    def remote(name: str, template) -> StaticDataTable:
        location = WebLocation(address=f"{base_url}/{name}.csv")
        encoding = CSVEncoding(header=CSVHeader(num_lines=1))
        if snap and name == "edges":
            location = WebLocation(address=f"{base_url}/{name}.txt.gz")
            encoding = TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=4))
        return StaticDataTable(
            name=name,
            schema=default_tabular_schema(template),
            setup=RemoteStorageSetup(remote=RemoteStorage(location=location, encoding=encoding)),
        )

    def sql(name: str, sources: dict[str, str], query: str, schema=None) -> StaticDataTable:
        return StaticDataTable(
            name=name,
            schema=schema or UndefinedTabularSchema(),
            setup=ComputedFromLocalData(source_asset_names=sources, target=lake, sql=query),
        )

    degree_row = IdentifierTuple(
        name="degree_row", attributes=[NumericIdentifier("node"), NumericIdentifier("degree")]
    )
    graphs = DataSet(
        name="graphs",
        datum_templates=[edge, degree_row],
        assets=[
            remote("edges", edge),
            sql(
                "degrees",
                {"edges": "edges"},
                "SELECT from_id AS node, count(*) AS degree FROM {edges} GROUP BY 1 ORDER BY 1",
                default_tabular_schema(degree_row),
            ),
            sql("hubs", {"d": "degrees"}, "SELECT node FROM {d} WHERE degree > 1 ORDER BY 1"),
            sql(
                "hub_count",
                {"hubs": "hubs"},
                "SELECT count(*) AS n, '{{literal}}' AS braces FROM {hubs}",
            ),
            StaticDataTable(
                name="out_degree",
                schema=UndefinedTabularSchema(),
                setup=ComputedFromLocalData(
                    source_asset_names={"edges": "edges"}, target=lake, function=out_degree
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
                {"hubs": "graphs.hubs", "m": "measures"},
                "SELECT m.node, m.weight FROM {m} AS m JOIN {hubs} AS h USING (node) ORDER BY 1",
            ),
        ],
    )
    return Universe(name="graph_lab", datasets=[graphs, nodes])


def check_graph_lake(cwd: Path) -> None:
    degrees = {}
    for a, _ in EDGES:
        degrees[a] = degrees.get(a, 0) + 1
    assert lake_query(cwd, "SELECT * FROM graphs.degrees") == sorted(degrees.items())
    assert lake_columns(cwd, "graphs.degrees") == [("node", "BIGINT"), ("degree", "BIGINT")]
    hubs = sorted(n for n, d in degrees.items() if d > 1)
    assert [r[0] for r in lake_query(cwd, "SELECT * FROM graphs.hubs")] == hubs
    assert lake_query(cwd, "SELECT * FROM graphs.hub_count") == [(len(hubs), "{literal}")]
    assert sorted(lake_query(cwd, "SELECT * FROM graphs.out_degree")) == sorted(degrees.items())
    weights = {n: w for n, w, _ in MEASURES}
    assert lake_query(cwd, "SELECT * FROM nodes.hub_measures") == [(n, weights[n]) for n in hubs]


@pytest.mark.parametrize("encoding", ["parquet", "orc"])
def test_derived_tables_in_a_python_script(http_server, tmp_path: Path, encoding: str) -> None:
    serve_graphs(http_server.root)
    target = ORCEncoding() if encoding == "orc" else ParquetEncoding()
    code = dag(graph_universe(http_server.base_url, target), ["AllAssetsComputed"], "python")
    assert "def out_degree(edges" in code
    run_generated(code, tmp_path)
    check_graph_lake(tmp_path)
    suffix = f".{encoding}"
    assert (tmp_path / "lake" / "derived" / "hubs" / f"hubs{suffix}").is_file()
    before = lake_state(tmp_path)
    run_generated(code, tmp_path)
    assert lake_state(tmp_path) == before


def test_a_changed_source_recomputes_what_derives_from_it(http_server, tmp_path: Path) -> None:
    serve_graphs(http_server.root)
    code = dag(graph_universe(http_server.base_url), ["AllAssetsComputed"], "python")
    run_generated(code, tmp_path)
    # One more edge out of node 4 makes it a hub: every table downstream changes.
    with (http_server.root / "edges.csv").open("a", encoding="utf-8") as handle:
        handle.write("4,2\n")
    os.utime(http_server.root / "edges.csv", (time.time() + 5, time.time() + 5))
    run_generated(code, tmp_path)
    assert [r[0] for r in lake_query(tmp_path, "SELECT * FROM graphs.hubs")] == [1, 4]
    assert lake_query(tmp_path, "SELECT node FROM nodes.hub_measures") == [(1,), (4,)]


def degrees_declared_as(universe: Universe, template: IdentifierTuple) -> Universe:
    """The graph universe with its `degrees` table declared by `template`."""
    graphs = universe.datasets[0]
    assets = [
        StaticDataTable(name="degrees", schema=default_tabular_schema(template), setup=a.setup)
        if a.name == "degrees"
        else a
        for a in graphs.assets
    ]
    templates = [graphs.datum_templates[0], template]
    return Universe(
        name="graph_lab",
        datasets=[
            DataSet(name="graphs", datum_templates=templates, assets=assets),
            universe.datasets[1],
        ],
    )


def test_a_computed_table_that_breaks_its_schema_publishes_nothing(
    http_server, tmp_path: Path
) -> None:
    serve_graphs(http_server.root)
    wrong = IdentifierTuple(
        name="degree_row", attributes=[NumericIdentifier("node"), Float64("degree")]
    )
    broken = degrees_declared_as(graph_universe(http_server.base_url), wrong)
    proc = run_generated(dag(broken, ["AllAssetsComputed"], "python"), tmp_path, expect_ok=False)
    output = proc.stdout + proc.stderr
    assert "graphs.degrees" in output and "degree DOUBLE" in output and "degree BIGINT" in output
    tables = {r[0] for r in lake_query(tmp_path, "SELECT table_name FROM duckdb_tables()")}
    assert "degrees" not in tables and "hubs" not in tables
    # The published Parquet tables are views over their files; no staging view is left.
    views = lake_query(
        tmp_path, "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal"
    )
    assert [v for v in views if v[0] == "_staging" or v[1] in ("degrees", "hubs")] == []


def test_derived_tables_module(http_server, tmp_path: Path) -> None:
    """`derived_tables(module)`: each function of the module is an asset of the dataset."""
    import derived_module

    from aorist import derived_tables

    serve_graphs(http_server.root)
    universe = graph_universe(http_server.base_url)
    graphs = universe.datasets[0]
    lake = HiveTableStorage(location=MinioLocation(name="derived"), encoding=ParquetEncoding())
    tables = derived_tables(derived_module, lake)
    assert tables, "the module defines functions"
    extended = DataSet(
        name="graphs",
        datum_templates=graphs.datum_templates,
        assets=[*graphs.assets, *tables],
    )
    universe = Universe(name="graph_lab", datasets=[extended, universe.datasets[1]])
    code = dag(universe, ["AllAssetsComputed"], "python")
    run_generated(code, tmp_path)
    published = {
        r[0] for r in lake_query(tmp_path, "SELECT table_name FROM information_schema.tables")
    }
    assert {t.name for t in tables} <= published
    before = lake_state(tmp_path)
    run_generated(code, tmp_path)
    assert lake_state(tmp_path) == before


# --------------------------------------------------------------------------- R scripts


def test_snap_with_an_orc_target_and_sql_in_an_r_script(http_server, tmp_path: Path) -> None:
    """SNAP-shaped edges replicated to ORC; SQL-derived tables run in DuckDB's shell, ORC
    and the function through python3."""
    from test_r_dialect import lint, run_r

    serve_graphs(http_server.root)
    universe = graph_universe(http_server.base_url, ORCEncoding(), snap=True)
    code = dag(universe, ["AllAssetsComputed"], "r")
    assert lint(code, tmp_path) == ""
    run = tmp_path / "run"
    run.mkdir()
    run_r(code, run)
    check_graph_lake(run)
    assert (run / "lake" / "derived" / "hubs" / "hubs.orc").is_file()
    before = lake_state(run)
    run_r(code, run)
    assert lake_state(run) == before


def test_wine_models_in_an_r_script(wine_served, tmp_path: Path) -> None:
    from test_r_dialect import run_r

    universe, csv_path, n_rows = wine_served
    run_r(dag(universe, ["AllAssetsComputed"], "r"), tmp_path)
    check_wine_lake(tmp_path, csv_path, n_rows)


def test_a_computed_table_that_breaks_a_contract_publishes_nothing(
    http_server, tmp_path: Path
) -> None:
    """A derived table's contracts are checked before it is published, like a source's:
    a degree below the declared minimum fails the table and what reads it."""
    serve_graphs(http_server.root)
    strict = IdentifierTuple(
        name="degree_row",
        attributes=[NumericIdentifier("node"), NumericIdentifier("degree", min=2)],
    )
    checked = degrees_declared_as(graph_universe(http_server.base_url), strict)
    out = output_of(
        run_generated(dag(checked, ["AllAssetsComputed"], "python"), tmp_path, expect_ok=False)
    )
    broken = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert len(broken) == 1, out
    assert broken[0].startswith(
        "FAILED degrees_converted_to_target_encoding: ContractViolation: "
        'graphs.degrees: column "degree": '
    ), out
    assert "break min=2 (examples: '1')" in broken[0], out
    tables = {r[0] for r in lake_query(tmp_path, "SELECT table_name FROM duckdb_tables()")}
    views = {r[0] for r in lake_query(tmp_path, "SELECT view_name FROM duckdb_views()")}
    assert "degrees" not in tables | views and "hubs" not in tables | views, out
    assert "edges" in tables | views, out
