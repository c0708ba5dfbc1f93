"""Tests for the recipes of derived assets: compute_query, apply_function, train_model,
predict (recipes/python/) and create_staging_view (recipes/sql/, run by the Python SQL
runtime and by the R one through the duckdb command-line shell).

Each recipe runs on a temporary lake holding real tables, published the way the
pipeline publishes them (a Parquet file with its marker, loaded by publish_table);
results are read back with duckdb and pyarrow, models with onnxruntime, and metrics
are compared with what scikit-learn computes here for the same split.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy
import onnxruntime
import pyarrow
import pyarrow.parquet
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)
from sklearn.model_selection import train_test_split
from sklearn.svm import SVR
from test_r_recipes import run_sql as run_sql_r
from test_r_recipes import sql_template
from test_recipes import RECIPES, load_python, load_runtime

# --------------------------------------------------------------------------- helpers


@pytest.fixture
def lake(tmp_path) -> Path:
    path = tmp_path / "my 'lake'"
    path.mkdir()
    return path


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def publish(lake: Path, schema: str, table: str, select: str) -> str:
    """Publish the rows of `select` as the lake table schema.table as the pipeline does:
    a Parquet file and its marker, loaded by the publish_table recipe. Returns the
    file's lake-relative path (what sources.files lists)."""
    relative = f"{schema}/{table}/{table}.parquet"
    path = lake / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(f"COPY ({select}) TO {sql_string(str(path))} (FORMAT parquet)")
    upstream = lake / "_staging" / schema / f"{table}.csv"
    upstream.parent.mkdir(parents=True, exist_ok=True)
    upstream.write_text("staged\n", encoding="utf-8")
    Path(f"{upstream}.done").write_text("staged-key\n\n", encoding="utf-8")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    Path(f"{path}.done").write_text(f"{digest}\n{upstream}\n", encoding="utf-8")
    staging = ["_staging", f"{schema}.{table}"]
    load_python("publish_table")(str(lake), relative, "parquet", [schema, table], staging)
    return relative


def publish_arrow(lake: Path, schema: str, table: str, data: pyarrow.Table) -> str:
    """Publish a pyarrow table (through a Parquet file outside the lake)."""
    source = lake.parent / f"{schema}.{table}.source.parquet"
    pyarrow.parquet.write_table(data, source)
    return publish(lake, schema, table, f"SELECT * FROM read_parquet({sql_string(str(source))})")


def query(lake: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(lake / "lake.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def parquet_rows(path: Path) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(f"SELECT * FROM read_parquet({sql_string(str(path))})").fetchall()


def parquet_columns(path: Path) -> list[tuple[str, str]]:
    with duckdb.connect() as con:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({sql_string(str(path))})"
        ).fetchall()
    return [(name, kind) for name, kind, *_ in described]


def files(lake: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of the lake but the database: its modification time and content."""
    return {
        str(p.relative_to(lake)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(lake.rglob("*"))
        if p.is_file() and not p.name.startswith("lake.duckdb")
    }


def marker(path: Path) -> list[str]:
    done = Path(f"{path}.done")
    return done.read_text(encoding="utf-8").splitlines() if done.exists() else []


def leftovers(lake: Path) -> list[str]:
    return [p.name for p in lake.rglob("*.part")]


# ------------------------------------------------------------------ compute_query

JOIN = """
-- visits per person; {{literal braces}} stay braces
SELECT p.name, sum(v.n)::BIGINT AS visits, '{{x}}' AS brace
FROM {people} AS p JOIN {visits} AS v ON p.id = v.person
GROUP BY p.name
ORDER BY p.name -- a final comment
;
"""


def people_and_visits(lake: Path, visits: str = "(1, 2), (1, 3), (2, 5)") -> list[list[str]]:
    """Two tables of two datasets (a name needing quotes), and their published files."""
    people = publish(
        lake, "left", 'the "people"', "SELECT * FROM (VALUES (1, 'ann'), (2, 'bo')) t(id, name)"
    )
    visited = publish(lake, "right", "visits", f"SELECT * FROM (VALUES {visits}) t(person, n)")
    return [people, visited]


SOURCES = [["people", "left", 'the "people"'], ["visits", "right", "visits"]]


def test_compute_query_join_rerun_and_changed_source(lake) -> None:
    inputs = people_and_visits(lake)
    compute_query = load_python("compute_query")
    output = "_staging/d/joined.parquet"
    compute_query(str(lake), JOIN, SOURCES, inputs, output)
    assert parquet_rows(lake / output) == [("ann", 5, "{x}"), ("bo", 5, "{x}")]
    lines = marker(lake / output)
    # Line 2 lists both inputs (tab-separated): a failure distrusts each.
    assert lines[1].split("\t") == [str(lake / f) for f in inputs]

    before = files(lake)
    compute_query(str(lake), JOIN, SOURCES, inputs, output)
    assert files(lake) == before

    # A republished source (a new marker) makes the table again.
    publish(lake, "right", "visits", "SELECT * FROM (VALUES (2, 1)) t(person, n)")
    compute_query(str(lake), JOIN, SOURCES, inputs, output)
    assert parquet_rows(lake / output) == [("bo", 1, "{x}")]
    assert marker(lake / output)[0] != lines[0]
    assert leftovers(lake) == []


@pytest.mark.parametrize(
    "sql,expected",
    [
        ("SELECT * FROM {nobody}", r"d\.a: the query's placeholder \{nobody\} names no source"),
        ("SELECT * FROM {people} WHERE {", r"d\.a: single '\{' at character 30"),
        ("SELECT '}' FROM {people}", r"d\.a: single '\}' at character 9"),
        ("SELECT * FROM { people }", r"placeholder \{ people \} names no source"),
    ],
)
def test_compute_query_placeholder_errors(lake, sql, expected) -> None:
    inputs = people_and_visits(lake)
    markers = {f: marker(lake / f) for f in inputs}
    with pytest.raises(ValueError, match=expected) as info:
        load_python("compute_query")(str(lake), sql, SOURCES, inputs, "_staging/d/a.parquet")
    assert "(roles: people, visits)" in str(info.value) and "; fix: " in str(info.value)
    assert not (lake / "_staging" / "d").exists()
    # A declaration error does not distrust the sources.
    assert {f: marker(lake / f) for f in inputs} == markers


def test_compute_query_failure_distrusts_its_sources(lake) -> None:
    inputs = people_and_visits(lake)
    output = "_staging/d/a.parquet"
    with pytest.raises(ValueError, match=r"(?s)^d\.a: the query failed: .*no_such_column.*; fix: "):
        load_python("compute_query")(
            str(lake), "SELECT no_such_column FROM {people}", SOURCES, inputs, output
        )
    assert not (lake / output).exists() and leftovers(lake) == []
    # Each input and what it was made from lose their markers: the next run makes
    # them again, once the cause is fixed.
    for relative in inputs:
        assert (lake / relative).exists() and marker(lake / relative) == []
    assert list(lake.rglob("*.done")) == []


# ----------------------------------------------------------------- apply_function

ARROW_FUNCTION = '''
import pyarrow.compute


def totals(people, visits):
    """Visits per person id, as a pyarrow.Table."""
    grouped = visits.group_by("person").aggregate([("n", "sum")])
    grouped = grouped.rename_columns(["id", "visits"])
    joined = people.join(grouped, "id").sort_by("id")
    return joined.select(["name", "visits"]).append_column(
        "kind", pyarrow.array(["arrow"] * joined.num_rows)
    )
'''

PANDAS_FUNCTION = '''
def totals(people, visits):
    """Visits per person id, as a pandas DataFrame."""
    frame = visits.to_pandas().groupby("person", as_index=False)["n"].sum()
    frame = frame.rename(columns={"person": "id", "n": "visits"})
    frame = people.to_pandas().merge(frame, on="id").sort_values("id")
    # A constant set (a frozenset in the code): its order changes with string hashing.
    frame["kind"] = ["pandas" if name not in {"x", "y", "z"} else "?" for name in frame["name"]]
    return frame[["name", "visits", "kind"]]
'''


def function_recipe(program: Path, source: str):
    """The apply_function recipe in a program that defines the function: compiled from
    the file `program`, as a generated program is."""
    program.write_text(source, encoding="utf-8")
    apply_function = load_python("apply_function")
    code = compile(source, str(program), "exec")
    exec(code, apply_function.__globals__)  # noqa: S102 - as a program defines it
    return apply_function


@pytest.mark.parametrize("source,kind", [(ARROW_FUNCTION, "arrow"), (PANDAS_FUNCTION, "pandas")])
def test_apply_function(lake, tmp_path, source, kind) -> None:
    inputs = people_and_visits(lake)
    output = "_staging/d/totals.parquet"
    apply_function = function_recipe(tmp_path / "program.py", source)
    apply_function(str(lake), "totals", SOURCES, inputs, output)
    assert parquet_rows(lake / output) == [("ann", 5, kind), ("bo", 5, kind)]
    assert [name for name, _ in parquet_columns(lake / output)] == ["name", "visits", "kind"]
    assert leftovers(lake) == []

    before = files(lake)
    apply_function(str(lake), "totals", SOURCES, inputs, output)
    assert files(lake) == before


def test_apply_function_changed_function_recomputes(lake, tmp_path) -> None:
    inputs = people_and_visits(lake)
    output = "_staging/d/totals.parquet"
    function_recipe(tmp_path / "program.py", ARROW_FUNCTION)(
        str(lake), "totals", SOURCES, inputs, output
    )
    key = marker(lake / output)[0]
    renamed = ARROW_FUNCTION.replace('["arrow"]', '["renamed"]')
    function_recipe(tmp_path / "program.py", renamed)(str(lake), "totals", SOURCES, inputs, output)
    assert marker(lake / output)[0] != key
    assert parquet_rows(lake / output) == [("ann", 5, "renamed"), ("bo", 5, "renamed")]


def run_program(lake: Path, program: Path, body: str, seed: str) -> None:
    """markers, apply_function and `body` as one program, run by a fresh interpreter."""
    parts = [
        RECIPES / "runtime" / "python" / "markers.py",
        RECIPES / "runtime" / "python" / "lake_lock.py",
        RECIPES / "python" / "apply_function.py",
    ]
    text = "\n\n".join(p.read_text(encoding="utf-8") for p in parts) + "\n\n" + body
    program.write_text(text, encoding="utf-8")
    subprocess.run(
        [sys.executable, str(program), str(lake)],
        check=True,
        env={**os.environ, "PYTHONHASHSEED": seed},
        timeout=120,
    )


def test_apply_function_key_without_source_is_stable_across_runs(lake, tmp_path) -> None:
    """A function with no source file (made by exec) is known by its code: the same
    code is skipped in another process (other string hashes, set order), changed code
    is not."""
    inputs = people_and_visits(lake)
    output = "_staging/d/totals.parquet"
    body = """
import sys

SOURCE = {function!r}
exec(compile(SOURCE, "<generated>", "exec"), globals())
apply_function(sys.argv[1], "totals", {sources!r}, {inputs!r}, {output!r})
"""
    same = body.format(function=PANDAS_FUNCTION, sources=SOURCES, inputs=inputs, output=output)
    run_program(lake, tmp_path / "program.py", same, "1")
    before = files(lake)
    run_program(lake, tmp_path / "program.py", same, "2")
    assert files(lake) == before
    other = PANDAS_FUNCTION.replace('"pandas"', '"other"')
    changed = body.format(function=other, sources=SOURCES, inputs=inputs, output=output)
    run_program(lake, tmp_path / "program.py", changed, "3")
    assert files(lake)[output] != before[output]
    assert parquet_rows(lake / output) == [("ann", 5, "other"), ("bo", 5, "other")]


def test_apply_function_errors(lake, tmp_path) -> None:
    inputs = people_and_visits(lake)
    output = "_staging/d/a.parquet"
    apply_function = function_recipe(
        tmp_path / "program.py", "def rows(people, visits):\n    return [1, 2]\n"
    )
    with pytest.raises(ValueError) as info:
        apply_function(str(lake), "rows", SOURCES, inputs, output)
    assert str(info.value) == (
        "d.a: rows() returned a builtins.list; fix: return a pyarrow.Table or a pandas DataFrame"
    )
    assert not (lake / output).exists() and leftovers(lake) == []

    with pytest.raises(RuntimeError, match=r"^d\.a: the program defines no function missing\(\)"):
        apply_function(str(lake), "missing", SOURCES, inputs, output)
    with pytest.raises(ValueError) as info:
        apply_function(str(lake), "rows", [["edges", "left", 'the "people"']], inputs, output)
    assert str(info.value).startswith(
        "d.a: rows(people, visits) cannot be called with the source tables edges"
    )
    assert "; fix: name its parameters after the roles" in str(info.value)


def test_apply_function_names_the_asset_when_the_function_raises(lake, tmp_path) -> None:
    inputs = people_and_visits(lake)
    apply_function = function_recipe(
        tmp_path / "program.py", "def boom(people, visits):\n    raise KeyError('x')\n"
    )
    with pytest.raises(KeyError) as info:
        apply_function(str(lake), "boom", SOURCES, inputs, "_staging/d/a.parquet")
    assert info.value.__notes__ == ["d.a: raised by boom(), which computes it"]


# ------------------------------------------------------------- train_model, predict

WINE = load_wine()
WINE_COLUMNS = [name.replace("/", "_") for name in WINE.feature_names]
# The seed's model: alcohol from attributes 3 to 10 of the UCI wine data.
ALCOHOL_FEATURES = WINE_COLUMNS[2:10]


def wine_table(lake: Path) -> str:
    """wine.wine_table: wine_id, the 13 attributes, class (class_0, ...)."""
    columns = {"wine_id": pyarrow.array(range(len(WINE.data)), pyarrow.int64())}
    for index, name in enumerate(WINE_COLUMNS):
        columns[name] = pyarrow.array(WINE.data[:, index], pyarrow.float64())
    columns["class"] = pyarrow.array([str(WINE.target_names[t]) for t in WINE.target])
    return publish_arrow(lake, "wine", "wine_table", pyarrow.table(columns))


def iris_table(lake: Path) -> str:
    iris = load_iris()
    columns = {f"f{i}": pyarrow.array(iris.data[:, i]) for i in range(4)}
    columns["species"] = pyarrow.array([str(iris.target_names[t]) for t in iris.target])
    return publish_arrow(lake, "iris", "iris_table", pyarrow.table(columns))


def expected_metrics(estimator, x, y, kind: str) -> list[tuple[str, float]]:
    """What scikit-learn gives for the documented split."""
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    predicted = estimator.fit(x_train, y_train).predict(x_test)
    if kind == "regression":
        metrics = [
            ("r2", r2_score(y_test, predicted)),
            ("mae", mean_absolute_error(y_test, predicted)),
            ("rmse", math.sqrt(mean_squared_error(y_test, predicted))),
        ]
    else:
        metrics = [
            ("accuracy", accuracy_score(y_test, predicted)),
            ("f1_macro", f1_score(y_test, predicted, average="macro")),
        ]
    return [*metrics, ("n_train", float(len(y_train))), ("n_test", float(len(y_test)))]


def assert_metrics(path: Path, expected: list[tuple[str, float]]) -> None:
    assert parquet_columns(path) == [("metric", "VARCHAR"), ("value", "DOUBLE")]
    rows = parquet_rows(path)
    assert [name for name, _ in rows] == [name for name, _ in expected]
    for (name, value), (_, wanted) in zip(rows, expected, strict=True):
        assert value == pytest.approx(wanted, rel=0, abs=1e-9), name


def train(lake: Path, inputs: list[str], algorithm: str, hyperparameters: list, **kw) -> None:
    arguments = {
        "table": ["wine", "wine_table"],
        "features": ALCOHOL_FEATURES,
        "objective": "alcohol",
        "kind": "regression",
        "model_file": "models/alcohol_model.onnx",
        "output": "_staging/wine/alcohol_model.parquet",
        **kw,
    }
    load_python("train_model")(
        lake_path=str(lake),
        algorithm=algorithm,
        hyperparameters=hyperparameters,
        inputs=inputs,
        **arguments,
    )


WINE_X = WINE.data[:, 2:10]
WINE_Y = WINE.data[:, 0]

REGRESSIONS = [
    ("SVMRegressionAlgorithm", [["c", 1.0], ["kernel", "rbf"]], SVR(kernel="rbf", C=1.0)),
    (
        "RandomForestRegressionAlgorithm",
        [["max_depth", None], ["n_estimators", 100]],
        RandomForestRegressor(n_estimators=100, random_state=0),
    ),
    ("LinearRegressionAlgorithm", [], LinearRegression()),
]


@pytest.mark.parametrize("algorithm,hyperparameters,estimator", REGRESSIONS, ids=lambda a: a)
def test_train_regression_on_wine(lake, algorithm, hyperparameters, estimator) -> None:
    inputs = [wine_table(lake)]
    train(lake, inputs, algorithm, hyperparameters)
    metrics = lake / "_staging" / "wine" / "alcohol_model.parquet"
    assert_metrics(metrics, expected_metrics(estimator, WINE_X, WINE_Y, "regression"))

    # The model file is ONNX that onnxruntime loads: a float32 input named "input" with
    # one column per feature, predicting what the scikit-learn model predicts.
    model = lake / "models" / "alcohol_model.onnx"
    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    (given,) = session.get_inputs()
    assert (given.name, given.type, given.shape) == ("input", "tensor(float)", [None, 8])
    predicted = session.run(None, {"input": WINE_X.astype(numpy.float32)})[0].reshape(-1)
    assert predicted == pytest.approx(estimator.predict(WINE_X), abs=1e-3)
    # The metrics are made from the model file, which is made from the table's file.
    assert marker(metrics)[1] == str(model)
    assert marker(model)[1] == str(lake / inputs[0])
    assert leftovers(lake) == []


def test_train_and_predict_reruns_and_retrains(lake) -> None:
    inputs = [wine_table(lake)]
    svm = [["c", 1.0], ["kernel", "rbf"]]
    model_file = "models/alcohol_model.onnx"
    predictions = "_staging/wine/predicted_alcohol.parquet"

    def predict() -> None:
        load_python("predict")(
            lake_path=str(lake),
            model_file=model_file,
            table=["wine", "wine_table"],
            features=ALCOHOL_FEATURES,
            keys=["wine_id"],
            column="predicted_alcohol",
            kind="regression",
            inputs=[model_file, *inputs],
            output=predictions,
        )

    train(lake, inputs, "SVMRegressionAlgorithm", svm)
    predict()
    rows = parquet_rows(lake / predictions)
    assert parquet_columns(lake / predictions) == [
        ("wine_id", "BIGINT"),
        ("predicted_alcohol", "DOUBLE"),
    ]
    # One row per wine, in table order, with its key.
    assert [wine_id for wine_id, _ in rows] == list(range(len(WINE.data)))
    x_train, _, y_train, _ = train_test_split(WINE_X, WINE_Y, test_size=0.2, random_state=0)
    expected = SVR(kernel="rbf", C=1.0).fit(x_train, y_train).predict(WINE_X)
    assert [p for _, p in rows] == pytest.approx(list(expected), abs=1e-3)

    before = files(lake)
    train(lake, inputs, "SVMRegressionAlgorithm", svm)
    predict()
    assert files(lake) == before

    # Other hyperparameters: a new model, new metrics, new predictions.
    train(lake, inputs, "SVMRegressionAlgorithm", [["c", 10.0], ["kernel", "rbf"]])
    predict()
    after = files(lake)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {
        model_file,
        f"{model_file}.done",
        "_staging/wine/alcohol_model.parquet",
        "_staging/wine/alcohol_model.parquet.done",
        predictions,
        f"{predictions}.done",
    }
    expected = SVR(kernel="rbf", C=10.0).fit(x_train, y_train).predict(WINE_X)
    assert [p for _, p in parquet_rows(lake / predictions)] == pytest.approx(
        list(expected), abs=1e-3
    )


CLASSIFICATIONS = [
    (
        "RandomForestClassificationAlgorithm",
        [["max_depth", None], ["n_estimators", 100]],
        RandomForestClassifier(n_estimators=100, random_state=0),
        "wine",
    ),
    (
        "LogisticRegressionAlgorithm",
        [["c", 1.0]],
        LogisticRegression(C=1.0, max_iter=1000),
        "iris",
    ),
]


@pytest.mark.parametrize(
    "algorithm,hyperparameters,estimator,data", CLASSIFICATIONS, ids=lambda a: a
)
def test_train_and_predict_classification(lake, algorithm, hyperparameters, estimator, data):
    if data == "wine":
        inputs = [wine_table(lake)]
        table, features, objective = ["wine", "wine_table"], WINE_COLUMNS, "class"
        x, labels = WINE.data, WINE.target_names[WINE.target]
    else:
        iris = load_iris()
        inputs = [iris_table(lake)]
        table, features, objective = ["iris", "iris_table"], ["f0", "f1", "f2", "f3"], "species"
        x, labels = iris.data, iris.target_names[iris.target]
    y = numpy.array([str(label) for label in labels], dtype=object)
    model_file = f"models/{data}_class.onnx"
    load_python("train_model")(
        str(lake),
        table,
        features,
        objective,
        "classification",
        algorithm,
        hyperparameters,
        model_file,
        inputs,
        f"_staging/{data}/{data}_class.parquet",
    )
    metrics = lake / "_staging" / data / f"{data}_class.parquet"
    assert_metrics(metrics, expected_metrics(estimator, x, y, "classification"))

    predictions = f"_staging/{data}/predicted_class.parquet"
    load_python("predict")(
        str(lake),
        model_file,
        table,
        features,
        [],
        "predicted_class",
        "classification",
        [model_file, *inputs],
        predictions,
    )
    assert parquet_columns(lake / predictions) == [("predicted_class", "VARCHAR")]
    predicted = [label for (label,) in parquet_rows(lake / predictions)]
    assert len(predicted) == len(y)
    # onnxruntime scores float32 features: the labels are scikit-learn's.
    assert predicted == list(estimator.predict(x))


def test_train_model_errors(lake) -> None:
    inputs = [wine_table(lake)]
    with pytest.raises(ValueError) as info:
        train(lake, inputs, "SVMRegressionAlgorithm", [], features=["ash", "nope"])
    message = str(info.value)
    assert message.startswith(
        "wine.alcohol_model: the training table wine.wine_table has no column nope "
        "(its columns: wine_id, alcohol, malic_acid, ash,"
    )
    assert "; fix: name columns of wine.wine_table in the template's features" in message
    with pytest.raises(ValueError, match=r"^wine\.alcohol_model: the training table .* no"):
        train(lake, inputs, "SVMRegressionAlgorithm", [], objective="price")
    with pytest.raises(
        ValueError, match=r"RandomForestClassificationAlgorithm is not a regression algorithm"
    ):
        train(lake, inputs, "RandomForestClassificationAlgorithm", [])
    assert not (lake / "models").exists()
    assert not (lake / "_staging" / "wine" / "alcohol_model.parquet").exists()
    # A declaration error does not distrust the training table's file.
    assert marker(lake / inputs[0])


def test_train_model_refuses_nulls(lake) -> None:
    inputs = [publish(lake, "d", "t", "SELECT * FROM (VALUES (1.0, 2.0), (NULL, 3.0)) v(a, b)")]
    with pytest.raises(ValueError, match=r"^d\.m: column a of d\.t has 1 NULL value\(s\); fix"):
        train(
            lake,
            inputs,
            "LinearRegressionAlgorithm",
            [],
            table=["d", "t"],
            features=["a"],
            objective="b",
            model_file="models/m.onnx",
            output="_staging/d/m.parquet",
        )
    assert not (lake / "models" / "m.onnx").exists() and leftovers(lake) == []


def test_predict_errors(lake) -> None:
    inputs = [wine_table(lake)]
    arguments = {
        "lake_path": str(lake),
        "model_file": "models/none.onnx",
        "table": ["wine", "wine_table"],
        "features": ALCOHOL_FEATURES,
        "keys": ["wine_id"],
        "column": "predicted_alcohol",
        "kind": "regression",
        "inputs": inputs,
        "output": "_staging/wine/p.parquet",
    }
    predict = load_python("predict")
    with pytest.raises(RuntimeError, match=r"^wine\.p: the model file .*none\.onnx does not"):
        predict(**arguments)
    train(lake, inputs, "LinearRegressionAlgorithm", [])
    arguments["model_file"] = "models/alcohol_model.onnx"
    with pytest.raises(ValueError, match=r"^wine\.p: the table wine\.wine_table has no column id"):
        predict(**{**arguments, "keys": ["id"]})
    with pytest.raises(ValueError, match=r"is also a key column; fix"):
        predict(**{**arguments, "column": "wine_id"})
    assert not (lake / "_staging" / "wine" / "p.parquet").exists()


# -------------------------------------------------------------- create_staging_view

STAGED = "_staging/d/a.parquet"
VIEW = ["_staging", "d.a"]


def create_staging_view(engine: str, lake: Path, signature: str | None) -> str | None:
    """Run create_staging_view.sql with the Python or the R runtime; the error text."""
    params = {
        "schema": VIEW[:1],
        "table": VIEW,
        "file": STAGED,
        "signature": signature,
        "dataset": "d",
        "asset": "a",
    }
    template = sql_template("create_staging_view")
    if engine == "r":
        result = run_sql_r(lake, template, check=False, **params)
        return result.stderr if result.returncode else None
    try:
        load_runtime("run_sql")["run_sql"](str(lake), template, **params)
    except duckdb.Error as error:
        return str(error)
    return None


def views(lake: Path) -> list[tuple]:
    return query(lake, "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal")


@pytest.mark.parametrize("engine", ["python", "r"])
def test_create_staging_view_checks_the_columns(lake, engine) -> None:
    (lake / "_staging" / "d").mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT 1::BIGINT AS x, 'a' AS y) TO "
            f"{sql_string(str(lake / STAGED))} (FORMAT parquet)"
        )
    assert create_staging_view(engine, lake, "x BIGINT, y VARCHAR") is None
    assert views(lake) == [("_staging", "d.a")]
    assert query(lake, 'SELECT * FROM "_staging"."d.a"') == [(1, "a")]

    for declared in ["x BIGINT, y DOUBLE", "y VARCHAR, x BIGINT", "x BIGINT"]:
        error = create_staging_view(engine, lake, declared)
        assert error is not None
        assert (
            f"d.a: the computed columns (x BIGINT, y VARCHAR) differ from the declared "
            f"schema ({declared}); fix: make the computation return the declared columns"
        ) in error
        # A failed step leaves no staging view, not even an earlier one.
        assert views(lake) == []

    assert create_staging_view(engine, lake, None) is None
    assert query(lake, 'SELECT * FROM "_staging"."d.a"') == [(1, "a")]


# ------------------------------------------------------------- the chain, end to end


@pytest.mark.parametrize("target_format", ["parquet", "orc"])
def test_query_result_published_through_the_chain(lake, target_format) -> None:
    """compute_query -> create_staging_view -> convert_to_target -> publish_table, as
    the contract chains them; a second run changes nothing."""
    inputs = people_and_visits(lake)
    target = f"d/joined/joined.{target_format}"

    def run() -> None:
        load_python("compute_query")(str(lake), JOIN, SOURCES, inputs, STAGED)
        error = create_staging_view("python", lake, "name VARCHAR, visits BIGINT, brace VARCHAR")
        assert error is None
        load_python("convert_to_target")(str(lake), VIEW, target, target_format, STAGED, [])
        load_python("publish_table")(str(lake), target, target_format, ["d", "joined"], VIEW)

    run()
    assert query(lake, 'SELECT * FROM "d"."joined"') == [("ann", 5, "{x}"), ("bo", 5, "{x}")]
    assert marker(lake / target)[1] == str(lake / STAGED)
    published = query(lake, "SELECT * FROM _aorist.published")
    before = files(lake)
    run()
    assert files(lake) == before
    assert query(lake, "SELECT * FROM _aorist.published") == published
