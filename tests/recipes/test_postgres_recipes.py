"""The PostgreSQL engine's recipes, called directly against a real PostgreSQL server."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from test_recipes import load_python, load_runtime

STEPS = {
    name: load_python(f"postgres/{name}")
    for name in (
        "store_in_lake",
        "create_staging",
        "convert_to_target",
        "publish_table",
        "drop_staging",
        "check_table",
        "compute_query",
        "apply_function",
        "train_model",
        "predict",
    )
}
COLUMNS = [["id", "BIGINT", False], ["name", "TEXT", True], ["value", "DOUBLE PRECISION", True]]


@pytest.fixture
def pg(postgres_server, monkeypatch):
    postgres_server.reset()
    for name, value in postgres_server.env.items():
        monkeypatch.setenv(name, value)
    return postgres_server


def write_csv(path: Path, rows: list[tuple]) -> str:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


def finish(config: dict, staging: list[str], table: list[str], columns, names) -> None:
    """The steps after the staging table is filled, as a program runs them."""
    STEPS["create_staging"](config, staging, columns, table)
    STEPS["convert_to_target"](config, staging, table, columns, [])
    STEPS["publish_table"](config, table)
    STEPS["drop_staging"](config, staging)
    STEPS["check_table"](config, table, names)


def replicate(pg, path: str, dataset: str, table: list[str], columns=COLUMNS) -> None:
    staging = ["_staging", f"{dataset}.{table[1]}"]
    STEPS["store_in_lake"](path, pg.config, staging, columns, table, [])
    finish(pg.config, staging, table, columns, [c[0] for c in columns])


def identity(pg, table: list[str]) -> tuple:
    """The table's oid and comment: a rerun that changes nothing keeps both."""
    return pg.query(
        "SELECT c.oid, obj_description(c.oid, 'pg_class') FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s",
        table,
    )[0]


ROWS = [(1, "a", 1.5), (2, "", 2.5), (3, "c", None), (4, 'd,"e"', -0.25)]


def test_replication_is_exact_and_a_rerun_changes_nothing(pg, tmp_path, capsys):
    path = write_csv(tmp_path / "t.csv", ROWS)
    replicate(pg, path, "ds", ["graphs", "edges"])
    rows = pg.query("SELECT id, name, value FROM graphs.edges ORDER BY id")
    # An empty CSV field is NULL; the quoted one kept its comma and quotes.
    assert rows == [(1, "a", 1.5), (2, None, 2.5), (3, "c", None), (4, 'd,"e"', -0.25)]
    types = pg.query(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'graphs' AND table_name = 'edges' ORDER BY ordinal_position"
    )
    assert types == [
        ("id", "bigint", "NO"),
        ("name", "text", "YES"),
        ("value", "double precision", "YES"),
    ]
    assert "graphs.edges: 4 rows, columns id, name, value" in capsys.readouterr().out
    assert pg.query("SELECT to_regclass('_staging.\"ds.edges\"')") == [(None,)]
    before = identity(pg, ["graphs", "edges"])
    # check_table returns the version publishing recorded (the table's comment).
    version = STEPS["check_table"](pg.config, ["graphs", "edges"], ["id", "name", "value"])
    comment = "SELECT obj_description('graphs.edges'::regclass, 'pg_class')"
    assert version and pg.query(comment) == [(version,)]
    # The published table holds this file's rows: nothing is staged again.
    staging = ["_staging", "ds.edges"]
    STEPS["store_in_lake"](path, pg.config, staging, COLUMNS, ["graphs", "edges"], [])
    assert pg.query("SELECT to_regclass('_staging.\"ds.edges\"')") == [(None,)]
    replicate(pg, path, "ds", ["graphs", "edges"])
    assert identity(pg, ["graphs", "edges"]) == before
    # A changed source replaces the table.
    load_runtime("markers")["write_atomically"](path + ".done", "changed\n\n")
    write_csv(tmp_path / "t.csv", [(9, "z", 0.0)])
    replicate(pg, path, "ds", ["graphs", "edges"])
    assert pg.query("SELECT id, name FROM graphs.edges") == [(9, "z")]
    assert identity(pg, ["graphs", "edges"])[1] != before[1]


def test_a_failed_publish_leaves_the_old_table_whole(pg, tmp_path):
    path = write_csv(tmp_path / "t.csv", ROWS)
    replicate(pg, path, "ds", ["graphs", "edges"])
    # A view on the table makes DROP TABLE fail inside the publishing transaction.
    pg.query("CREATE VIEW graphs.first AS SELECT id FROM graphs.edges")
    load_runtime("markers")["write_atomically"](path + ".done", "changed\n\n")
    write_csv(tmp_path / "t.csv", [(9, "z", 0.0)])
    staging = ["_staging", "ds.edges"]
    STEPS["store_in_lake"](path, pg.config, staging, COLUMNS, ["graphs", "edges"], [])
    STEPS["create_staging"](pg.config, staging, COLUMNS, ["graphs", "edges"])
    STEPS["convert_to_target"](pg.config, staging, ["graphs", "edges"], COLUMNS, [])
    with pytest.raises(
        RuntimeError, match=r"graphs\.edges: the table cannot be replaced.*fix: drop the views"
    ):
        STEPS["publish_table"](pg.config, ["graphs", "edges"])
    assert pg.query("SELECT count(*) FROM graphs.edges") == [(4,)]
    assert pg.query('SELECT count(*) FROM graphs."edges__aorist_new"') == [(1,)]
    pg.query("DROP VIEW graphs.first")
    STEPS["publish_table"](pg.config, ["graphs", "edges"])
    assert pg.query("SELECT id FROM graphs.edges") == [(9,)]
    assert pg.query("SELECT to_regclass('graphs.\"edges__aorist_new\"')") == [(None,)]


def test_a_bad_value_fails_naming_the_table_and_the_fix(pg, tmp_path):
    path = write_csv(tmp_path / "t.csv", [(1, "a", 1.0), ("two", "b", 2.0)])
    with pytest.raises(ValueError) as caught:
        replicate(pg, path, "ds", ["graphs", "edges"])
    message = str(caught.value)
    assert message.startswith(f"_staging.ds.edges: PostgreSQL refused a value of {path}")
    # The column and the line of the staged file, as the lake's own message has them.
    assert 'column "id", line 2: invalid input syntax for type bigint: "two"; fix' in message
    assert "fix: check the source's declared encoding" in message
    assert pg.query("SELECT to_regclass('graphs.edges')") == [(None,)]


def test_a_null_in_a_non_nullable_column_fails_naming_it(pg, tmp_path):
    path = write_csv(tmp_path / "t.csv", [(1, "a", 1.0), ("", "b", 2.0)])
    staging = ["_staging", "ds.edges"]
    STEPS["store_in_lake"](path, pg.config, staging, COLUMNS, ["graphs", "edges"], [])
    with pytest.raises(ValueError, match=r"non-nullable column\(s\) id \(1\); fix: "):
        STEPS["create_staging"](pg.config, staging, COLUMNS, ["graphs", "edges"])


def test_wrong_or_missing_credentials_fail_clearly(pg, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "t.csv", ROWS)
    monkeypatch.setenv(pg.password_env, "not-the-password")
    with pytest.raises(RuntimeError) as caught:
        replicate(pg, path, "ds", ["graphs", "edges"])
    message = str(caught.value)
    assert f"cannot connect to PostgreSQL aorist@127.0.0.1:{pg.port}/lake" in message
    assert "password authentication failed" in message
    assert f"fix: check that the server runs there and that {pg.password_env}" in message
    assert "not-the-password" not in message
    monkeypatch.delenv(pg.password_env)
    with pytest.raises(RuntimeError, match=f"{pg.password_env} is not set; fix: export"):
        replicate(pg, path, "ds", ["graphs", "edges"])


def test_a_query_in_duckdb_sql_runs_translated(pg, tmp_path):
    replicate(pg, write_csv(tmp_path / "t.csv", ROWS), "ds", ["graphs", "edges"])
    # ifnull and ::DOUBLE are DuckDB's: PostgreSQL has neither.
    query = (
        "SELECT id, ifnull(name, 'none') AS label, id::DOUBLE / 2 AS half"
        " FROM {edges} WHERE id < 4;"
    )
    with pg.connect() as connection, pytest.raises(Exception, match="ifnull|double"):
        connection.execute(query.replace("{edges}", "graphs.edges"))
    staging = ["_staging", "ds.halves"]
    sources = [["edges", "graphs", "edges"]]
    STEPS["compute_query"](pg.config, query, sources, staging, ["graphs", "halves"], None, [])
    finish(pg.config, staging, ["graphs", "halves"], None, None)
    assert pg.query("SELECT * FROM graphs.halves ORDER BY id") == [
        (1, "a", 0.5),
        (2, "none", 1.0),
        (3, "c", 1.5),
    ]
    before = identity(pg, ["graphs", "halves"])
    STEPS["compute_query"](pg.config, query, sources, staging, ["graphs", "halves"], None, [])
    finish(pg.config, staging, ["graphs", "halves"], None, None)
    assert identity(pg, ["graphs", "halves"]) == before
    bad = [["_staging", "ds.bad"], ["graphs", "bad"], None]
    with pytest.raises(
        ValueError,
        match=r"_staging\.ds\.bad: the query failed on PostgreSQL: .*nothere.*fix: correct",
    ):
        STEPS["compute_query"](pg.config, "SELECT nothere FROM {edges}", sources, *bad, [])
    with pytest.raises(ValueError, match=r"placeholder \{other\} names no source table"):
        STEPS["compute_query"](pg.config, "SELECT 1 FROM {other}", sources, *bad, [])


def scaled(edges):
    frame = edges.to_pandas()
    frame["double"] = frame["id"] * 2
    return frame[["id", "double"]]


def test_a_function_asset(pg, tmp_path):
    replicate(pg, write_csv(tmp_path / "t.csv", ROWS), "ds", ["graphs", "edges"])
    apply = STEPS["apply_function"]
    apply.__globals__["scaled"] = scaled
    staging = ["_staging", "ds.scaled"]
    declared = [["id", "BIGINT", False], ["double", "BIGINT", False]]
    target = ["graphs", "scaled"]
    apply(pg.config, "scaled", [["edges", "graphs", "edges"]], staging, target, declared, [])
    finish(pg.config, staging, ["graphs", "scaled"], declared, ["id", "double"])
    assert pg.query('SELECT id, "double" FROM graphs.scaled ORDER BY id') == [
        (1, 2),
        (2, 4),
        (3, 6),
        (4, 8),
    ]
    with pytest.raises(RuntimeError, match="defines no function missing"):
        apply(pg.config, "missing", [["edges", "graphs", "edges"]], staging, target, declared, [])


def test_a_model_and_its_predictions(pg, tmp_path):
    iris = load_iris(as_frame=True).frame
    features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    iris.columns = [*features, "species"]
    iris.insert(0, "id", range(len(iris)))
    rows = [
        (int(r[0]), *(float(v) for v in r[1:5]), str(int(r[5])))
        for r in iris.itertuples(index=False)
    ]
    columns = [
        ["id", "BIGINT", False],
        *[[f, "DOUBLE PRECISION", False] for f in features],
        ["species", "TEXT", False],
    ]
    replicate(pg, write_csv(tmp_path / "iris.csv", rows), "flowers", ["ml", "iris"], columns)
    lake = str(tmp_path / "lake")
    metrics_staging = ["_staging", "flowers.species_model"]
    train = [pg.config, lake, ["ml", "iris"], features, "species", "classification"]
    train += ["LogisticRegressionAlgorithm", [["c", 1.0]], "models/species.onnx"]
    STEPS["train_model"](*train, metrics_staging, ["ml", "species_model"], None)
    finish(pg.config, metrics_staging, ["ml", "species_model"], None, None)
    x = numpy.array([r[1:5] for r in rows])
    y = numpy.array([r[5] for r in rows], dtype=object)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x_train, y_train)
    expected = model.predict(x_test)
    metrics = dict(pg.query("SELECT metric, value FROM ml.species_model"))
    assert list(metrics) == ["accuracy", "f1_macro", "n_train", "n_test"]
    assert math.isclose(metrics["accuracy"], accuracy_score(y_test, expected))
    assert math.isclose(metrics["f1_macro"], f1_score(y_test, expected, average="macro"))
    assert (metrics["n_train"], metrics["n_test"]) == (120, 30)
    model_file = tmp_path / "lake" / "models" / "species.onnx"
    assert model_file.stat().st_size > 0
    staging = ["_staging", "flowers.species_predicted"]
    scoring = [pg.config, lake, "models/species.onnx", ["ml", "iris"], features, ["id"]]
    scoring += ["predicted", "classification", staging, ["ml", "predicted"], None, []]
    STEPS["predict"](*scoring)
    finish(pg.config, staging, ["ml", "predicted"], None, None)
    found = dict(pg.query("SELECT id, predicted FROM ml.predicted"))
    wanted = dict(
        zip(
            range(len(rows)),
            model.predict(x.astype(numpy.float32).astype(numpy.float64)),
            strict=True,
        )
    )
    agree = sum(found[i] == wanted[i] for i in wanted)
    assert len(found) == 150 and agree >= 148, agree
    before = [identity(pg, ["ml", t]) for t in ("species_model", "predicted")]
    mtime = model_file.stat().st_mtime_ns
    STEPS["train_model"](*train, metrics_staging, ["ml", "species_model"], None)
    finish(pg.config, metrics_staging, ["ml", "species_model"], None, None)
    STEPS["predict"](*scoring)
    finish(pg.config, staging, ["ml", "predicted"], None, None)
    assert [identity(pg, ["ml", t]) for t in ("species_model", "predicted")] == before
    assert model_file.stat().st_mtime_ns == mtime
