# [recipe]
# constraint = "PredictionsComputed"
# language = "python"
# entry = "spark_predict"
# summary = "Every row of the Spark table to score (collected to the driver) is scored by the ONNX model through onnxruntime, and its key columns and prediction are staged as Parquet in the warehouse."
# libraries = ["numpy", "onnxruntime", "pyarrow", "pyspark"]
# uses = ["markers", "spark_session"]
# when = { engine = ["spark"] }
#
# [recipe.parameters]
# spark = { from = "settings.spark", doc = "the Spark session's settings (master, warehouse_dir, app_name)" }
# lake_path = { from = "settings.lake_path", doc = "directory on the driver's disk holding the model file" }
# model_file = { from = "predictions.model_file", doc = "path of the ONNX model file, relative to lake_path" }
# table = { from = "predictions.data", doc = "database and name of the table to score" }
# features = { from = "predictions.features", doc = "columns of the table the model reads, in the model's order" }
# keys = { from = "predictions.keys", doc = "key columns copied from the table to each prediction" }
# column = { from = "predictions.column", doc = "name of the prediction column" }
# kind = { from = "predictions.kind", doc = "regression (a DOUBLE column) or classification (a STRING label)" }
# inputs = { from = "sources.files", doc = "the model file (relative to lake_path) and the table's warehouse-relative directory" }
# output = { from = "staging.file", doc = "warehouse-relative Parquet directory to write" }

import os

import numpy
import onnxruntime
import pyarrow


def spark_predict(
    spark: dict,
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
    asset = ".".join(output.rstrip("/").rsplit(".", 1)[0].split("/")[-2:])
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
    session = spark_session(spark)
    # The model's marker ties these predictions to the model that made them; the
    # table's marker (in the warehouse) to the rows it scored.
    markers = [
        (
            marker_text(model_path)
            if os.path.normpath(os.path.join(lake_path, path))
            == os.path.normpath(model_path)
            else spark_marker(session, spark_location(spark, path))
        )
        for path in inputs
    ]
    markers.append(marker_text(model_path))
    target = spark_location(spark, output)
    key = step_key("spark_predict", kind, features, keys, column, table, markers)
    if not spark_is_current(session, target, key):
        # The table is collected to the driver, where onnxruntime scores it: fine at
        # the sizes these tables have here (score by partitions for bigger ones).
        data = spark_read_arrow(session, table)
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
        scorer = onnxruntime.InferenceSession(
            model_path, providers=["CPUExecutionProvider"]
        )
        x = numpy.column_stack(
            [data.column(f).to_numpy().astype(numpy.float64) for f in features]
        ).astype(numpy.float32)
        # The first output is a regression's values or a classification's labels.
        if data.num_rows:
            result = scorer.run(None, {"input": x})[0].reshape(-1)
        else:
            result = numpy.zeros(0)
        if kind == "regression":
            predictions = pyarrow.array(result.astype(numpy.float64), pyarrow.float64())
        else:
            labels = [str(label) for label in result.tolist()]
            predictions = pyarrow.array(labels, pyarrow.string())
        scored = pyarrow.Table.from_arrays(
            [*(data.column(k) for k in keys), predictions], names=[*keys, column]
        )
        staged = spark_temporary(target)
        try:
            spark_write_arrow(session, scored, staged)
            spark_put_directory(session, staged, target, key, model_path)
        except BaseException:
            spark_delete(session, staged)
            raise
