"""Tests for the object-store engine's recipes (recipes/python/objectstore/), called
directly against a SeaweedFS server that checks credentials (the ``s3_server`` session
fixture).

Tables are replicated from a local CSV file the way the pipeline does (download,
header removed, store, typed staging table, conversion, publish, drop, check); derived
tables come from SQL (compared with what DuckDB computes here on the same rows), a
Python function, and a model with its predictions (iris, compared with what
scikit-learn computes here for the same split).
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import duckdb
import numpy
import pyarrow
import pyarrow.orc
import pyarrow.parquet
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from test_recipes import RECIPES, load_python
from test_recipes import test_python_structure as check_structure

EDGE_COLUMNS = [["from_id", "BIGINT", False], ["to_id", "BIGINT", False]]
EDGES = [(1, 2), (1, 3), (2, 3), (3, 1), (4, 1)]


@pytest.mark.parametrize(
    "path", sorted((RECIPES / "python" / "objectstore").glob("*.py")), ids=lambda p: p.name
)
def test_objectstore_recipe_structure(path: Path) -> None:
    """One entry function named as its header says, parameters in header order, a
    docstring, and every third-party import declared."""
    check_structure(path)


def recipe(name: str):
    return load_python(f"objectstore/{name}")


@pytest.fixture
def store(s3_server, monkeypatch):
    """OBJECT_STORE of the server, its keys in the environment; a fresh dataset name."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    return s3_server.config(), "d" + uuid.uuid4().hex[:10]


def read_table(s3_server, key: str) -> pyarrow.Table:
    data = s3_server.read(key)
    if key.endswith(".orc"):
        return pyarrow.orc.ORCFile(io.BytesIO(data)).read()
    return pyarrow.parquet.read_table(io.BytesIO(data))


def replicate(config, tmp_path: Path, dataset, table, text, columns, target_format):
    """Run the replication steps for `text` (a CSV with one header line); the target key."""
    # A source of other rows is at another URL (a URL's file is downloaded once).
    source = tmp_path / f"{dataset}.{table}.{abs(hash(text))}.csv"
    source.write_text(text, encoding="utf-8")
    tmp = f"_tmp/run/{dataset}.{table}."
    staged = f"_staging/{dataset}/{table}.csv"
    target = f"{dataset}/{table}/{table}.{target_format}"
    staging = ["_staging", f"{dataset}.{table}"]
    signature = ", ".join(f"{name} {kind}" for name, kind, _ in columns)
    recipe("download")(config, str(source), tmp + "download", None, None, "csv")
    recipe("remove_header")(config, tmp + "download", tmp + "header_removed", 1)
    recipe("store_in_lake")(config, tmp + "header_removed", staged)
    args = (config, staging, staged)
    recipe("create_staging")(*args, "csv", columns, signature, target, target_format, [])
    recipe("convert_to_target")(*args, columns, target, target_format, [])
    recipe("publish_table")(*args, columns, target, target_format, [])
    recipe("drop_staging")(config, staging, target)
    return target


def edges_csv(rows) -> str:
    return "from_id,to_id\n" + "".join(f"{a},{b}\n" for a, b in rows)


@pytest.mark.parametrize("target_format", ["orc", "parquet"])
def test_replication_publishes_exact_rows_and_a_rerun_changes_nothing(
    store, s3_server, tmp_path, capsys, target_format
) -> None:
    config, dataset = store
    text = edges_csv(EDGES)
    target = replicate(config, tmp_path, dataset, "edges", text, EDGE_COLUMNS, target_format)
    table = read_table(s3_server, target)
    assert table.schema.names == ["from_id", "to_id"]
    assert table.schema.types == [pyarrow.int64(), pyarrow.int64()]
    assert list(zip(*table.to_pydict().values(), strict=True)) == EDGES
    # The temporary objects are gone; only the marker and the table stay in its folder.
    keys = s3_server.keys(dataset)
    assert keys == [target, target + ".done"]
    assert not [k for k in s3_server.keys("_tmp") if dataset in k and "run" not in k]
    # It returns the version publishing recorded in the marker.
    version = recipe("check_table")(config, [dataset, "edges"], ["from_id", "to_id"], target)
    assert version and s3_server.read(target + ".done").decode().startswith(version + "\n")
    assert f"{dataset}.edges: 5 rows, columns from_id, to_id" in capsys.readouterr().out
    before = {key: s3_server.read(key) for key in s3_server.keys(dataset)}
    staging_before = s3_server.read(f"_staging/{dataset}/edges.csv.done")
    replicate(config, tmp_path, dataset, "edges", text, EDGE_COLUMNS, target_format)
    assert {key: s3_server.read(key) for key in s3_server.keys(dataset)} == before
    assert s3_server.read(f"_staging/{dataset}/edges.csv.done") == staging_before
    # A changed source is published again.
    replicate(config, tmp_path, dataset, "edges", edges_csv([(9, 9)]), EDGE_COLUMNS, target_format)
    assert read_table(s3_server, target).to_pydict() == {"from_id": [9], "to_id": [9]}


def test_a_bad_value_fails_clearly_and_publishes_nothing(store, s3_server, tmp_path) -> None:
    config, dataset = store
    target = replicate(
        config, tmp_path, dataset, "edges", edges_csv(EDGES), EDGE_COLUMNS, "parquet"
    )
    before = s3_server.read(target)
    with pytest.raises(ValueError) as caught:
        replicate(config, tmp_path, dataset, "edges", "a,b\n1,2\n3.5,4\n", EDGE_COLUMNS, "parquet")
    message = str(caught.value)
    assert "edges: column \"from_id\", line 2: '3.5' is not a whole number (BIGINT)" in message
    assert "fix:" in message
    assert s3_server.read(target) == before
    # The staged file is distrusted: once the source is fixed, the run makes it again.
    assert f"_staging/{dataset}/edges.csv.done" not in s3_server.keys("_staging")
    replicate(config, tmp_path, dataset, "edges", "a,b\n1,2\n3,4\n", EDGE_COLUMNS, "parquet")
    assert read_table(s3_server, target).to_pydict() == {"from_id": [1, 3], "to_id": [2, 4]}


def test_a_failure_mid_publish_leaves_the_old_table_whole(store, s3_server, tmp_path) -> None:
    config, dataset = store
    target = replicate(config, tmp_path, dataset, "edges", edges_csv(EDGES), EDGE_COLUMNS, "orc")
    old = s3_server.read(target)
    publish = recipe("publish_table")
    connect = publish.__globals__["s3_connect"]

    class Failing:
        """The bucket's filesystem, whose server-side copy fails (a lost connection)."""

        def __init__(self, filesystem) -> None:
            self.filesystem = filesystem

        def __getattr__(self, name):
            return getattr(self.filesystem, name)

        def copy_file(self, source, destination):
            raise OSError("connection reset during CopyObject")

    publish.__globals__["s3_connect"] = lambda cfg: (Failing(connect(cfg)[0]), connect(cfg)[1])
    new_rows = [(7, 8), (8, 9)]
    source = tmp_path / "new.csv"
    source.write_text(edges_csv(new_rows), encoding="utf-8")
    staging = ["_staging", f"{dataset}.edges"]
    staged = f"_staging/{dataset}/edges.csv"
    tmp = f"_tmp/run/{dataset}.edges."
    recipe("download")(config, str(source), tmp + "download", None, None, "csv")
    recipe("remove_header")(config, tmp + "download", tmp + "header_removed", 1)
    recipe("store_in_lake")(config, tmp + "header_removed", staged)
    args = (config, staging, staged)
    recipe("create_staging")(*args, "csv", EDGE_COLUMNS, None, target, "orc", [])
    recipe("convert_to_target")(*args, EDGE_COLUMNS, target, "orc", [])
    with pytest.raises(OSError, match="connection reset"):
        publish(*args, EDGE_COLUMNS, target, "orc", [])
    assert s3_server.read(target) == old
    assert list(zip(*read_table(s3_server, target).to_pydict().values(), strict=True)) == EDGES
    # The rerun publishes the new rows once.
    recipe("publish_table")(*args, EDGE_COLUMNS, target, "orc", [])
    rows = list(zip(*read_table(s3_server, target).to_pydict().values(), strict=True))
    assert rows == new_rows


def test_sql_derived_table(store, s3_server, tmp_path) -> None:
    config, dataset = store
    edges = replicate(config, tmp_path, dataset, "edges", edges_csv(EDGES), EDGE_COLUMNS, "parquet")
    # GROUP BY ALL / ORDER BY ALL are DuckDB's: the engine's SQL is DuckDB's, in memory.
    sql = "SELECT from_id AS node, count(*) AS degree FROM {edges} GROUP BY ALL ORDER BY ALL;"
    staged = f"_staging/{dataset}/degrees.parquet"
    compute = recipe("compute_query")
    compute(config, sql, [["edges", dataset, "edges"]], [edges], staged)
    marker = s3_server.read(staged + ".done")
    compute(config, sql, [["edges", dataset, "edges"]], [edges], staged)
    assert s3_server.read(staged + ".done") == marker
    columns = [["node", "BIGINT", True], ["degree", "BIGINT", True]]
    staging = ["_staging", f"{dataset}.degrees"]
    target = f"{dataset}/degrees/degrees.orc"
    args = (config, staging, staged)
    recipe("create_staging")(
        *args, "parquet", columns, "node BIGINT, degree BIGINT", target, "orc", []
    )
    recipe("convert_to_target")(*args, columns, target, "orc", [])
    recipe("publish_table")(*args, columns, target, "orc", [])
    recipe("drop_staging")(config, staging, target)
    con = duckdb.connect()
    con.execute("CREATE TABLE edges (from_id BIGINT, to_id BIGINT)")
    con.executemany("INSERT INTO edges VALUES (?, ?)", EDGES)
    expected = con.execute(sql.replace("{edges}", "edges")).fetchall()
    found = read_table(s3_server, target).to_pydict()
    assert list(zip(found["node"], found["degree"], strict=True)) == expected
    # A schema the query does not return fails naming both.
    with pytest.raises(ValueError, match="differ from the declared schema"):
        recipe("create_staging")(
            config, ["_staging", f"{dataset}.bad"], staged, "parquet", columns,
            "node BIGINT, degree DOUBLE", f"{dataset}/bad/bad.orc", "orc", [],
        )  # fmt: skip


def degree_of(edges):
    counts = {}
    for node in edges.column("to_id").to_pylist():
        counts[node] = counts.get(node, 0) + 1
    return pyarrow.table({"node": list(counts), "in_degree": list(counts.values())})


def test_function_asset(store, s3_server, tmp_path) -> None:
    config, dataset = store
    edges = replicate(config, tmp_path, dataset, "edges", edges_csv(EDGES), EDGE_COLUMNS, "orc")
    apply = recipe("apply_function")
    apply.__globals__["degree_of"] = degree_of
    staged = f"_staging/{dataset}/in_degrees.parquet"
    apply(config, "degree_of", [["edges", dataset, "edges"]], [edges], staged)
    found = read_table(s3_server, staged).to_pydict()
    assert dict(zip(found["node"], found["in_degree"], strict=True)) == {2: 1, 3: 2, 1: 2}
    with pytest.raises(ValueError, match="cannot be called with the source tables"):
        apply(config, "degree_of", [["links", dataset, "edges"]], [edges], staged + "x")


def test_model_and_predictions(store, s3_server) -> None:
    config, dataset = store
    iris = load_iris(as_frame=True).frame
    iris.columns = ["sl", "sw", "pl", "pw", "species"]
    iris.insert(0, "id", range(len(iris)))
    iris["species"] = iris["species"].astype(str)
    table_key = f"{dataset}/flowers/flowers.parquet"
    buffer = io.BytesIO()
    pyarrow.parquet.write_table(pyarrow.Table.from_pandas(iris, preserve_index=False), buffer)
    s3_server.write(table_key, buffer.getvalue())
    s3_server.write(table_key + ".done", b"v1\n\n")
    features = ["sl", "sw", "pl", "pw"]
    model_key = f"{dataset}/models/species.onnx"
    metrics_key = f"_staging/{dataset}/species.parquet"
    train = recipe("train_model")
    train_args = (config, [dataset, "flowers"], features, "species", "classification")
    train(
        *train_args,
        "LogisticRegressionAlgorithm",
        [["c", 1.0]],
        model_key,
        [table_key],
        metrics_key,
    )
    x = iris[features].to_numpy(dtype=numpy.float64)
    y = iris["species"].to_numpy()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x_train, y_train)
    predicted = model.predict(x_test)
    metrics = dict(zip(*read_table(s3_server, metrics_key).to_pydict().values(), strict=True))
    assert metrics["accuracy"] == pytest.approx(accuracy_score(y_test, predicted))
    assert metrics["f1_macro"] == pytest.approx(f1_score(y_test, predicted, average="macro"))
    assert (metrics["n_train"], metrics["n_test"]) == (120, 30)
    model_marker = s3_server.read(model_key + ".done")
    train(
        *train_args,
        "LogisticRegressionAlgorithm",
        [["c", 1.0]],
        model_key,
        [table_key],
        metrics_key,
    )
    assert s3_server.read(model_key + ".done") == model_marker
    out = f"_staging/{dataset}/scored.parquet"
    predict = recipe("predict")
    predict(
        config, model_key, [dataset, "flowers"], features, ["id"], "predicted",
        "classification", [model_key, table_key], out,
    )  # fmt: skip
    scored = read_table(s3_server, out).to_pydict()
    assert scored["id"] == list(range(150))
    agree = numpy.mean(numpy.array(scored["predicted"]) == model.predict(x))
    assert agree > 0.98
    with pytest.raises(ValueError, match="has no column"):
        train(*train_args[:2], ["nope"], "species", "classification",
              "LogisticRegressionAlgorithm", [["c", 1.0]], model_key + "x", [table_key],
              metrics_key + "x")  # fmt: skip


def test_wrong_or_missing_credentials_fail_first_and_write_nothing(
    store, s3_server, tmp_path, monkeypatch
) -> None:
    config, dataset = store
    source = tmp_path / "edges.csv"
    source.write_text(edges_csv(EDGES), encoding="utf-8")
    before = s3_server.keys()
    download = recipe("download")
    monkeypatch.setenv(config["secret_key_env"], "not-the-secret")
    with pytest.raises(RuntimeError) as caught:
        download(config, str(source), f"_tmp/{dataset}.download", None, None, "csv")
    message = str(caught.value)
    assert config["endpoint"] in message and f"bucket {config['bucket']}" in message
    assert config["access_key_env"] in message and config["secret_key_env"] in message
    assert "refused" in message and "not-the-secret" not in message
    monkeypatch.delenv(config["access_key_env"])
    with pytest.raises(RuntimeError, match=f"{config['access_key_env']} are not set; fix: export"):
        download(config, str(source), f"_tmp/{dataset}.download", None, None, "csv")
    assert s3_server.keys() == before
