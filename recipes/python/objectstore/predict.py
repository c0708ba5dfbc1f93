# [recipe]
# constraint = "PredictionsComputed"
# language = "python"
# entry = "objectstore_predict"
# summary = "Every row of the data table is scored by the ONNX model through onnxruntime, and its key columns and prediction are staged as a Parquet file."
# libraries = ["duckdb", "numpy", "onnxruntime", "pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# model_file = { from = "predictions.model_file", doc = "path of the ONNX model file, a bucket key" }
# table = { from = "predictions.data", doc = "schema and name of the table to score" }
# features = { from = "predictions.features", doc = "columns of the table the model reads, in the model's order" }
# keys = { from = "predictions.keys", doc = "key columns copied from the table to each prediction" }
# column = { from = "predictions.column", doc = "name of the prediction column" }
# kind = { from = "predictions.kind", doc = "regression (a DOUBLE column) or classification (a VARCHAR label)" }
# inputs = { from = "sources.files", doc = "bucket keys of the files of the sources: the model file and the table's file" }
# output = { from = "staging.file", doc = "bucket key of the Parquet file to write" }

import os

import numpy
import onnxruntime
import pyarrow
import pyarrow.parquet


def objectstore_predict(
    config: dict,
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
    `keys` columns followed by the prediction `column` to the bucket key `output` (Parquet).

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
    files = [s3_key(path) for path in inputs]
    # The model's marker is what ties these predictions to the model that made them.
    if s3_key(model_file) not in files:
        files.append(s3_key(model_file))
    query = "SELECT * FROM " + ".".join(
        '"' + str(part).replace('"', '""') + '"' for part in table
    )
    parts = ["predict", kind, features, keys, column, table]
    with s3_producing(config, output, parts, files) as out:
        if out is None:
            return
        if not s3_exists(config, model_file):
            raise RuntimeError(
                f"{asset}: the model file {model_file} is not in the bucket; fix: "
                "train the model first (its ModelTrained step writes it)"
            )
        model_path = os.path.join(out.scratch, "model.onnx")
        s3_get(config, model_file, model_path)
        con = s3_catalog(config, [table], files)
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
