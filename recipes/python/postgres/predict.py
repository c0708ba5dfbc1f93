# [recipe]
# constraint = "PredictionsComputed"
# language = "python"
# entry = "postgres_predict"
# summary = "Every row of the PostgreSQL table to score (collected in memory) is scored by the ONNX model through onnxruntime, and its key columns and prediction are loaded into the staging table."
# libraries = ["numpy", "onnxruntime", "psycopg", "pyarrow"]
# uses = ["markers", "postgres"]
# when = { engine = ["postgres"] }
#
# [recipe.parameters]
# postgres = { from = "settings.postgres", doc = "the PostgreSQL server (host, port, user, dbname, password_env)" }
# lake_path = { from = "settings.lake_path", doc = "local directory holding the model file" }
# model_file = { from = "predictions.model_file", doc = "path of the ONNX model file, relative to lake_path" }
# table = { from = "predictions.data", doc = "schema and name of the table to score" }
# features = { from = "predictions.features", doc = "columns of the table the model reads, in the model's order" }
# keys = { from = "predictions.keys", doc = "key columns copied from the table to each prediction" }
# column = { from = "predictions.column", doc = "name of the prediction column" }
# kind = { from = "predictions.kind", doc = "regression (a DOUBLE PRECISION column) or classification (a TEXT label)" }
# staging = { from = "staging.table", doc = "schema and name of the staging table to fill" }
# target = { from = "target.table", doc = "schema and name of the published table: when it holds these rows already, nothing is staged" }
# target_columns = { from = "columns.postgres", doc = "[name, PostgreSQL type, nullable] per declared column, or None" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }

import os

import numpy
import onnxruntime
import pyarrow


def postgres_predict(
    postgres: dict,
    lake_path: str,
    model_file: str,
    table: list[str],
    features: list[str],
    keys: list[str],
    column: str,
    kind: str,
    staging: list[str],
    target: list[str],
    target_columns: list[list] | None,
    contracts: list,
) -> None:
    """Score every row of `table` with the ONNX model and write, in table order, its
    `keys` columns followed by the prediction `column` to the staging table.

    The model is run by onnxruntime on the features as float32; a regression's
    output becomes float64, a classification's label a string. No pickle is loaded.
    The step is skipped when the staging table was made from the same versions of
    the model file and the table.
    """
    asset = pg_label(staging)
    name = ".".join(str(part) for part in table)
    if kind not in ("regression", "classification"):
        raise ValueError(
            f"{asset}: unknown model kind {kind!r}; fix: use a model whose template "
            "is TrainedFloatMeasure or TrainedCategoricalMeasure"
        )
    if column in keys:
        raise ValueError(
            f"{asset}: the prediction column {column} is also a key column; fix: "
            "give the predictions template another name"
        )
    model_path = os.path.join(lake_path, model_file)
    if not os.path.exists(model_path):
        raise RuntimeError(
            f"{asset}: the model file {model_path} does not exist; fix: train the "
            "model first (its ModelTrained step writes it)"
        )
    parts = ["postgres_predict", kind, features, keys, column, table]
    with pg_connect(postgres, asset) as connection:
        with connection.cursor() as cursor:
            versions = [marker_text(model_path), pg_version(cursor, table)]
            if versions[1] is None:
                raise RuntimeError(
                    f"{asset}: the table to score {name} does not exist; fix: "
                    "compute it first"
                )
            version = step_key(*parts, versions)
            if pg_is_current(cursor, staging, version):
                return
            if pg_published_from(
                cursor, staging, target, target_columns, version, contracts
            ):
                return
            # The table is collected in memory, as the lake's step does.
            data = pg_read_arrow(cursor, table)
            missing = [c for c in [*features, *keys] if c not in data.column_names]
            if missing:
                raise ValueError(
                    f"{asset}: the table {name} has no column {', '.join(missing)} (its "
                    f"columns: {', '.join(data.column_names)}); fix: score a table with "
                    "the model's features, and name its columns as key_attributes"
                )
            for feature in features:
                nulls = data.column(feature).null_count
                if nulls:
                    raise ValueError(
                        f"{asset}: column {feature} of {name} has {nulls} NULL value(s) "
                        "the model cannot score; fix: score a derived table without them"
                    )
            session = onnxruntime.InferenceSession(
                model_path, providers=["CPUExecutionProvider"]
            )
            x = numpy.column_stack(
                [data.column(f).to_numpy().astype(numpy.float64) for f in features]
            ).astype(numpy.float32)
            # The first output is a regression's values or a classification's labels.
            if data.num_rows:
                result = session.run(None, {"input": x})[0].reshape(-1)
            else:
                result = numpy.zeros(0)
            if kind == "regression":
                predictions = pyarrow.array(
                    result.astype(numpy.float64), pyarrow.float64()
                )
            else:
                labels = [str(label) for label in result.tolist()]
                predictions = pyarrow.array(labels, pyarrow.string())
            scored = pyarrow.Table.from_arrays(
                [*(data.column(key) for key in keys), predictions],
                names=[*keys, column],
            )
            pg_load_arrow(cursor, staging, scored, version)
