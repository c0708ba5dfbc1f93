"""Tests for the Spark engine's recipes (recipes/python/spark/), called directly against
one local SparkSession with a Hive metastore (the ``spark_env`` session fixture).

Tables are replicated from a local CSV file and published the way the pipeline does
(store, staging table, exact conversion, publish, drop, check); derived tables come from
SQL written in DuckDB's dialect (translated by sqlglot, and compared with what DuckDB
computes on the same rows), a Python function, and a model with its predictions (iris,
compared with what scikit-learn computes here for the same split).
"""

from __future__ import annotations

import ast
import hashlib
import math
import sys
import uuid
from pathlib import Path

import duckdb
import numpy
import onnxruntime
import pyarrow
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from test_recipes import RECIPES, define_helpers, split_recipe

SPARK_RECIPES = RECIPES / "python" / "spark"

# pyspark keeps a pipe to its JVM's stdin (the JVM exits when it closes); the fixture
# closes it when it stops the JVM, but Python may report the pipe's file as unclosed.
pytestmark = pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")


def load_spark(name: str, replace: dict | None = None):
    """The entry function of recipes/python/spark/<name>.py, defined after its helpers
    as in a program (``replace``: names to override in its namespace)."""
    path = SPARK_RECIPES / f"{name}.py"
    meta, _ = split_recipe(path)
    namespace: dict = {"__name__": f"recipe_spark_{name}"}
    define_helpers(meta["recipe"].get("uses", []), namespace)
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102
    namespace.update(replace or {})
    return namespace[meta["recipe"]["entry"]]


@pytest.mark.parametrize("path", sorted(SPARK_RECIPES.glob("*.py")), ids=lambda p: p.name)
def test_spark_recipe_structure(path: Path) -> None:
    """The rules test_recipes.py checks for recipes/python/*.py hold here too."""
    recipe = split_recipe(path)[0]["recipe"]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    functions = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported.add(node.names[0].name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            imported.add(str(node.module).split(".")[0])
        else:
            assert isinstance(node, ast.FunctionDef), f"{path}: top-level {node}"
            functions.append(node)
    assert [f.name for f in functions] == [recipe["entry"]]
    assert [a.arg for a in functions[0].args.args] == list(recipe["parameters"])
    assert ast.get_docstring(functions[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names}
    assert third_party <= set(recipe["libraries"])


def test_every_spark_recipe_selects_the_spark_engine() -> None:
    names = sorted(p.stem for p in SPARK_RECIPES.glob("*.py"))
    constraints = set()
    for name in names:
        meta, _ = split_recipe(SPARK_RECIPES / f"{name}.py")
        assert meta["recipe"]["when"] == {"engine": ["spark"]}, name
        assert meta["recipe"]["entry"].startswith("spark_"), name
        constraints.add(meta["recipe"]["constraint"])
    assert constraints == {
        "StoredInLake",
        "QueryComputed",
        "FunctionApplied",
        "ModelTrained",
        "PredictionsComputed",
        "TemporaryTableCreated",
        "ConvertedToTargetEncoding",
        "TablePublished",
        "TemporaryTableDropped",
        "AssetComputed",
    }


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def spark(spark_env):
    """The session (started once) and a SPARK setting over its warehouse; every test
    uses datasets of its own, so tests share the one metastore safely."""
    session = spark_env.session()
    config = {
        "master": "local[1]",
        "warehouse_dir": str(spark_env.warehouse),
        "app_name": "recipes",
    }
    return session, config


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


COLUMNS = [["id", "BIGINT", False], ["score", "DOUBLE", True], ["label", "STRING", False]]
ROWS = [(1, 0.5, "a"), (2, None, 'b, "quoted"'), (3, 2.25, "c")]


def csv_text(rows) -> str:
    def cell(value) -> str:
        if value is None:
            return ""
        text = str(value)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"') else text

    return "".join(",".join(cell(v) for v in row) + "\n" for row in rows)


def mark(path: Path) -> None:
    """The marker the upstream step (download ... convert_to_csv) leaves beside its file."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    Path(f"{path}.done").write_text(f"{digest}\n\n", encoding="utf-8")


def replicate(config, tmp_path: Path, dataset: str, table: str, text: str, fmt="orc", cols=None):
    """The replication chain of one table from a local header-less CSV file."""
    columns = cols or COLUMNS
    source = tmp_path / f"{dataset}.{table}.csv"
    source.write_text(text, encoding="utf-8")
    mark(source)
    staging = ["_staging", f"{dataset}__{table}"]
    staged = f"_staging/{dataset}/{table}.csv"
    target = f"{dataset}/{table}/{table}.{fmt}"
    load_spark("store_in_lake")(str(source), config, staged)
    load_spark("create_staging_table")(config, staging, staged, "csv", columns, table, dataset)
    load_spark("convert_to_target")(config, staging, target, fmt, staged, "csv", columns, [])
    load_spark("publish_table")(config, target, fmt, [dataset, table], staging)
    load_spark("drop_staging_table")(config, staging)
    return target


def derive(config, dataset: str, table: str, columns, fmt: str = "parquet") -> str:
    """The steps after a derived table's rows are staged as Parquet."""
    staging = ["_staging", f"{dataset}__{table}"]
    staged = f"_staging/{dataset}/{table}.parquet"
    target = f"{dataset}/{table}/{table}.{fmt}"
    load_spark("create_staging_table")(config, staging, staged, "parquet", columns, table, dataset)
    load_spark("convert_to_target")(config, staging, target, fmt, staged, "parquet", columns, [])
    load_spark("publish_table")(config, target, fmt, [dataset, table], staging)
    load_spark("drop_staging_table")(config, staging)
    return target


def rows(session, dataset: str, table: str, order: str = "1") -> list[tuple]:
    return [
        tuple(r)
        for r in session.sql(f"SELECT * FROM `{dataset}`.`{table}` ORDER BY {order}").collect()
    ]


def properties(session, dataset: str, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in session.sql(f"SHOW TBLPROPERTIES `{dataset}`.`{table}`").collect()}


def described(session, dataset: str, table: str) -> dict[str, str]:
    found = session.sql(f"DESCRIBE FORMATTED `{dataset}`.`{table}`").collect()
    return {r[0]: r[1] for r in found}


def tree(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------- replication


@pytest.mark.parametrize("fmt", ["orc", "parquet"])
def test_replication_publishes_a_hive_table_and_a_rerun_changes_nothing(
    spark, spark_env, tmp_path, capsys, fmt
) -> None:
    session, config = spark
    dataset = unique("rep")
    target = replicate(config, tmp_path, dataset, "items", csv_text(ROWS), fmt)
    assert rows(session, dataset, "items") == ROWS
    info = described(session, dataset, "items")
    assert info["Type"] == "EXTERNAL"
    assert fmt in info["Serde Library"].lower()
    version = properties(session, dataset, "items")["aorist.version"]
    assert info["Location"].endswith(f"{target}/{version}")
    assert [(c.name, c.dataType) for c in session.catalog.listColumns(f"`{dataset}`.`items`")] == [
        ("id", "bigint"),
        ("score", "double"),
        ("label", "string"),
    ]
    assert not session.catalog.tableExists(f"`_staging`.`{dataset}__items`")
    # It returns the version publishing recorded: how an orchestrator tells a changed
    # table from an unchanged one.
    assert load_spark("check_table")(config, [dataset, "items"], ["id", "score", "label"]) == (
        version
    )
    assert f"{dataset}.items: 3 rows, columns id, score, label" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="has columns"):
        load_spark("check_table")(config, [dataset, "items"], ["id", "label"])
    # A rerun on the same file changes no file and keeps the version.
    before = tree(spark_env.warehouse / dataset)
    replicate(config, tmp_path, dataset, "items", csv_text(ROWS), fmt)
    assert tree(spark_env.warehouse / dataset) == before
    assert properties(session, dataset, "items")["aorist.version"] == version
    # New rows: a new version directory replaces the old one.
    replicate(config, tmp_path, dataset, "items", csv_text([*ROWS, (4, 1.0, "d")]), fmt)
    assert rows(session, dataset, "items") == [*ROWS, (4, 1.0, "d")]
    new = properties(session, dataset, "items")["aorist.version"]
    assert new != version
    assert sorted(p.name for p in (spark_env.warehouse / target).iterdir()) == [new]


@pytest.mark.parametrize(
    ("value", "column", "what"),
    [
        ("3.5", "id", "is not a whole number"),
        ("x", "score", "is not a double"),
        ("", "label", "NULL or empty value in a non-nullable column"),
    ],
)
def test_a_bad_value_fails_naming_table_column_and_value(
    spark, tmp_path, value, column, what
) -> None:
    session, config = spark
    dataset = unique("bad")
    good = replicate(config, tmp_path, dataset, "items", csv_text(ROWS))
    before = rows(session, dataset, "items")
    cells = {"id": "7", "score": "1.5", "label": "z"} | {column: value}
    text = csv_text(ROWS) + ",".join(cells.values()) + "\n"
    with pytest.raises(ValueError) as error:
        replicate(config, tmp_path, dataset, "items", text)
    message = str(error.value)
    assert f"{dataset}.items: column `{column}`" in message
    assert what in message and "fix:" in message
    if value:
        assert f"value '{value}'" in message
    # Nothing was published, no staging table is left, the old rows stay whole.
    assert rows(session, dataset, "items") == before
    assert not session.catalog.tableExists(f"`_staging`.`{dataset}__items`")
    assert good


# --------------------------------------------------------------------------- failure mid-publish


class FailingSession:
    """A SparkSession whose metastore writes fail, as a lost connection would."""

    def __init__(self, session) -> None:
        self._session = session

    def sql(self, text: str, *args, **kwargs):
        if text.startswith(("ALTER TABLE", "CREATE TABLE", "DROP TABLE `rep")):
            raise RuntimeError("metastore connection lost")
        return self._session.sql(text, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._session, name)


def test_a_failure_mid_publish_leaves_the_old_table_whole(spark, spark_env, tmp_path) -> None:
    session, config = spark
    dataset = unique("pub")
    target = replicate(config, tmp_path, dataset, "items", csv_text(ROWS))
    old = properties(session, dataset, "items")["aorist.version"]
    new_rows = [(i, float(i), f"n{i}") for i in range(10, 15)]
    source = tmp_path / "new.csv"
    source.write_text(csv_text(new_rows), encoding="utf-8")
    mark(source)
    staging = ["_staging", f"{dataset}__items"]
    staged = f"_staging/{dataset}/items.csv"
    load_spark("store_in_lake")(str(source), config, staged)
    load_spark("create_staging_table")(config, staging, staged, "csv", COLUMNS, "items", dataset)
    load_spark("convert_to_target")(config, staging, target, "orc", staged, "csv", COLUMNS, [])
    failing = FailingSession(session)
    publish = load_spark("publish_table", {"spark_session": lambda config: failing})
    with pytest.raises(RuntimeError, match="metastore connection lost"):
        publish(config, target, "orc", [dataset, "items"], staging)
    assert rows(session, dataset, "items") == ROWS
    assert properties(session, dataset, "items")["aorist.version"] == old
    assert (spark_env.warehouse / target / old).is_dir()
    # The rerun publishes the new rows, once, and removes the old version.
    load_spark("publish_table")(config, target, "orc", [dataset, "items"], staging)
    assert rows(session, dataset, "items") == new_rows
    assert not (spark_env.warehouse / target / old).exists()


# --------------------------------------------------------------------------- SQL


# DuckDB's dialect: `//` (integer division), GROUP BY ALL, * EXCLUDE, string_agg and
# "double-quoted" names, none of which Spark SQL parses as DuckDB means them.
QUERY = """
SELECT bucket, count(*) AS n, string_agg(label, '|' ORDER BY label) AS labels
FROM (
    SELECT * EXCLUDE (score), id // 2 AS bucket FROM {items} WHERE "label" <> 'x'
)
GROUP BY ALL
ORDER BY bucket -- {{braces}} in a comment
;
"""
MANY = [(i, i / 4, f"l{i % 3}") for i in range(1, 12)]


def test_a_duckdb_query_is_translated_and_runs_as_spark_sql(spark, spark_env, tmp_path) -> None:
    session, config = spark
    dataset = unique("sql")
    source = replicate(config, tmp_path, dataset, "items", csv_text(MANY))
    # The raw query, rendered for DuckDB, is not Spark SQL: the translation is needed.
    with pytest.raises(Exception, match="PARSE_SYNTAX_ERROR"):
        session.sql(QUERY.replace("{items}", f'"{dataset}"."items"').replace("{{", "{"))
    output = f"_staging/{dataset}/buckets.parquet"
    compute = load_spark("compute_query")
    compute(config, QUERY, [["items", dataset, "items"]], [source], output)
    columns = [["bucket", "BIGINT", False], ["n", "BIGINT", False], ["labels", "STRING", True]]
    derive(config, dataset, "buckets", columns)
    # What DuckDB computes from the same rows.
    with duckdb.connect() as con:
        con.execute(f'CREATE SCHEMA "{dataset}"')
        con.execute(f'CREATE TABLE "{dataset}".items (id BIGINT, score DOUBLE, label VARCHAR)')
        con.executemany(f'INSERT INTO "{dataset}".items VALUES (?, ?, ?)', MANY)
        sql = QUERY.replace("{items}", f'"{dataset}"."items"').replace("{{", "{")
        expected = con.execute(sql).fetchall()
    assert rows(session, dataset, "buckets") == expected
    # Rerun: skipped (the staged directory and its marker are untouched).
    staged = spark_env.warehouse / output
    before = tree(staged.parent)
    compute(config, QUERY, [["items", dataset, "items"]], [source], output)
    assert tree(staged.parent) == before
    # A query Spark rejects names the asset and shows the Spark SQL it ran.
    with pytest.raises(ValueError, match=rf"{dataset}\.broken: the query failed on Spark") as e:
        compute(
            config,
            "SELECT nope FROM {items}",
            [["items", dataset, "items"]],
            [source],
            f"_staging/{dataset}/broken.parquet",
        )
    assert f"`{dataset}`.`items`" in str(e.value)
    with pytest.raises(ValueError, match="names no source table"):
        compute(config, "SELECT * FROM {other}", [["items", dataset, "items"]], [source], output)


def test_declared_columns_are_checked_against_the_computed_ones(spark, tmp_path) -> None:
    _, config = spark
    dataset = unique("chk")
    source = replicate(config, tmp_path, dataset, "items", csv_text(ROWS))
    output = f"_staging/{dataset}/ids.parquet"
    load_spark("compute_query")(
        config, "SELECT id FROM {items}", [["items", dataset, "items"]], [source], output
    )
    with pytest.raises(ValueError, match=r"computed columns \(id BIGINT\) differ"):
        load_spark("create_staging_table")(
            config,
            ["_staging", f"{dataset}__ids"],
            output,
            "parquet",
            [["id", "DOUBLE", False]],
            "ids",
            dataset,
        )


# --------------------------------------------------------------------------- function


def doubled(items):
    """Keep ids and double them (a pyarrow.Table in, a pandas DataFrame out)."""
    frame = items.to_pandas()
    return frame.assign(twice=frame["id"] * 2)[["id", "twice"]]


def test_a_function_asset_gets_each_source_as_a_pyarrow_table(spark, tmp_path) -> None:
    session, config = spark
    dataset = unique("fn")
    source = replicate(config, tmp_path, dataset, "items", csv_text(ROWS))
    seen = []

    def recorded(items):
        seen.append(type(items))
        return doubled(items)

    apply = load_spark("apply_function", {"doubled": recorded})
    output = f"_staging/{dataset}/twice.parquet"
    apply(config, "doubled", [["items", dataset, "items"]], [source], output)
    derive(config, dataset, "twice", None)
    assert rows(session, dataset, "twice") == [(1, 2), (2, 4), (3, 6)]
    assert seen == [pyarrow.Table]
    with pytest.raises(RuntimeError, match="defines no function missing"):
        apply(config, "missing", [["items", dataset, "items"]], [source], output)


# --------------------------------------------------------------------------- model


def test_a_model_trains_on_a_spark_table_and_scores_it(spark, spark_env, tmp_path) -> None:
    session, config = spark
    dataset = unique("iris")
    iris = load_iris()
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    data = [
        (i + 1, *(float(v) for v in row), f"class_{label}")
        for i, (row, label) in enumerate(zip(iris.data, iris.target, strict=True))
    ]
    columns = [
        ["flower_id", "BIGINT", False],
        *([n, "DOUBLE", False] for n in names),
        ["species", "STRING", False],
    ]
    table = replicate(config, tmp_path, dataset, "flowers", csv_text(data), "parquet", columns)
    lake = tmp_path / "lake"
    train = load_spark("train_model")
    args = (
        config,
        str(lake),
        [dataset, "flowers"],
        names,
        "species",
        "classification",
        "LogisticRegressionAlgorithm",
        [["c", 1.0]],
        "models/iris.onnx",
        [table],
        f"_staging/{dataset}/iris_model_metrics.parquet",
    )
    train(*args)
    derive(
        config,
        dataset,
        "iris_model_metrics",
        [["metric", "STRING", False], ["value", "DOUBLE", False]],
    )
    x = numpy.array([row[1:5] for row in data])
    y = numpy.array([row[5] for row in data], dtype=object)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    predicted = LogisticRegression(C=1.0, max_iter=1000).fit(x_train, y_train).predict(x_test)
    expected = [
        ("accuracy", accuracy_score(y_test, predicted)),
        ("f1_macro", f1_score(y_test, predicted, average="macro")),
        ("n_train", 120.0),
        ("n_test", 30.0),
    ]
    metrics = [
        tuple(r) for r in session.sql(f"SELECT * FROM `{dataset}`.`iris_model_metrics`").collect()
    ]
    assert [m for m, _ in metrics] == [m for m, _ in expected]
    for (_, got), (_, want) in zip(metrics, expected, strict=True):
        assert math.isclose(got, want, rel_tol=1e-12)
    model = lake / "models" / "iris.onnx"
    before = model.stat().st_mtime_ns
    train(*args)  # a rerun keeps the model file
    assert model.stat().st_mtime_ns == before
    output = f"_staging/{dataset}/iris_predictions.parquet"
    load_spark("predict")(
        config,
        str(lake),
        "models/iris.onnx",
        [dataset, "flowers"],
        names,
        ["flower_id"],
        "predicted_species",
        "classification",
        ["models/iris.onnx", table],
        output,
    )
    derive(
        config,
        dataset,
        "iris_predictions",
        [["flower_id", "BIGINT", False], ["predicted_species", "STRING", False]],
    )
    scored = rows(session, dataset, "iris_predictions")
    scorer = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    labels = scorer.run(None, {"input": x.astype(numpy.float32)})[0].reshape(-1)
    assert scored == [(i + 1, str(label)) for i, label in enumerate(labels.tolist())]
