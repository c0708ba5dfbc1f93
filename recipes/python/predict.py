# [recipe]
# constraint = "PredictionsComputed"
# language = "python"
# entry = "predict"
# summary = "Every row of the data table is scored by the ONNX model through onnxruntime, and its key columns and prediction are staged as a Parquet file."
# libraries = ["duckdb", "numpy", "onnxruntime", "pyarrow"]
# uses = ["markers", "lake_lock"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# model_file = { from = "predictions.model_file", doc = "path of the ONNX model file, relative to the lake directory" }
# table = { from = "predictions.data", doc = "schema and name of the table to score" }
# features = { from = "predictions.features", doc = "columns of the table the model reads, in the model's order" }
# keys = { from = "predictions.keys", doc = "key columns copied from the table to each prediction" }
# column = { from = "predictions.column", doc = "name of the prediction column" }
# kind = { from = "predictions.kind", doc = "regression (a DOUBLE column) or classification (a VARCHAR label)" }
# inputs = { from = "sources.files", doc = "lake-relative files of the sources: the model file and the table's file" }
# output = { from = "staging.file", doc = "lake-relative path of the Parquet file to write" }

import os

import duckdb
import numpy
import onnxruntime
import pyarrow
import pyarrow.parquet


def predict(
    lake_path: str,
    model_file: str,
    table: list[str],
    features: list[str],
    keys: list[str],
    column: str,
    kind: str,
    inputs: list[str],
    output: str,
) -> None:
    """Score every row of `table` with the ONNX model and write, in table order, its
    `keys` columns followed by the prediction `column` to lake_path/output (Parquet).

    The model is run by onnxruntime on the features as float32; a regression's
    output becomes float64, a classification's label a string. No pickle is loaded.
    The step is skipped when the file was made from the same versions of the model
    and the table (their markers join the step's key).
    """
    # output is "_staging/<dataset>/<asset>.parquet": name the asset in messages.
    asset = ".".join(os.path.splitext(os.path.normpath(output))[0].split(os.sep)[-2:])
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
    files = [os.path.normpath(os.path.join(lake_path, path)) for path in inputs]
    # The model's marker is what ties these predictions to the model that made them.
    if os.path.normpath(model_path) not in files:
        files.append(os.path.normpath(model_path))
    query = "SELECT * FROM " + ".".join(
        '"' + str(part).replace('"', '""') + '"' for part in table
    )
    target = os.path.join(lake_path, output)
    parts = ["predict", kind, features, keys, column, table]
    with producing(target, parts, files) as out:
        if out is None:
            return
        with lake_lock(lake_path):
            # Lake files stay readable by the DuckDB 1.5 command-line program (the R
            # dialect's SQL engine): the setting decides the format of a new file.
            con = duckdb.connect(
                os.path.join(lake_path, "lake.duckdb"),
                config={"storage_compatibility_version": "v1.5.0"},
            )
            try:
                data = con.sql(query).to_arrow_table()
            finally:
                con.close()
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
            predictions = pyarrow.array(result.astype(numpy.float64), pyarrow.float64())
        else:
            labels = [str(label) for label in result.tolist()]
            predictions = pyarrow.array(labels, pyarrow.string())
        scored = pyarrow.Table.from_arrays(
            [*(data.column(key) for key in keys), predictions], names=[*keys, column]
        )
        pyarrow.parquet.write_table(scored, out.part)
