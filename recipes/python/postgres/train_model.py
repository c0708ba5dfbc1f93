# [recipe]
# constraint = "ModelTrained"
# language = "python"
# entry = "postgres_train_model"
# summary = "A scikit-learn model is fitted on 80% of the PostgreSQL training table (collected in memory), written as an ONNX file that onnxruntime loads, and its held-out metrics are loaded into the staging table."
# libraries = ["numpy", "onnxruntime", "psycopg", "pyarrow", "skl2onnx", "sklearn"]
# uses = ["markers", "postgres"]
# when = { engine = ["postgres"] }
#
# [recipe.parameters]
# postgres = { from = "settings.postgres", doc = "the PostgreSQL server (host, port, user, dbname, password_env)" }
# lake_path = { from = "settings.lake_path", doc = "local directory the model file is written under" }
# table = { from = "model.training_table", doc = "schema and name of the training table" }
# features = { from = "model.features", doc = "columns of the training table the model reads" }
# objective = { from = "model.objective", doc = "column of the training table the model predicts" }
# kind = { from = "model.kind", doc = "regression or classification" }
# algorithm = { from = "model.algorithm", doc = "name of the algorithm concept, e.g. SVMRegressionAlgorithm" }
# hyperparameters = { from = "model.hyperparameters", doc = "[name, value] pairs of the algorithm's fields" }
# model_file = { from = "model.file", doc = "path of the ONNX file to write, relative to lake_path" }
# staging = { from = "staging.table", doc = "schema and name of the staging table the metrics fill" }
# target = { from = "target.table", doc = "schema and name of the published metrics table: when it holds these rows already, nothing is staged" }
# target_columns = { from = "columns.postgres", doc = "[name, PostgreSQL type, nullable] per declared column, or None" }

import math
import os

import numpy
import onnxruntime
import pyarrow
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
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


def postgres_train_model(
    postgres: dict,
    lake_path: str,
    table: list[str],
    features: list[str],
    objective: str,
    kind: str,
    algorithm: str,
    hyperparameters: list[list],
    model_file: str,
    staging: list[str],
    target: list[str],
    target_columns: list[list] | None,
) -> None:
    """Fit `algorithm` to predict `objective` from `features` of the training table,
    write it to lake_path/model_file as ONNX and its held-out metrics to the staging
    table.

    The table is read whole, in table order; X is the features as float64, y the
    objective (float for regression, a string label for classification); the split is
    train_test_split(X, y, test_size=0.2, random_state=0). The metrics come from the
    fitted scikit-learn model's predictions on the held-out 20%: r2, mae, rmse for
    regression, accuracy and f1_macro for classification, then n_train and n_test.
    The model file is skipped when an earlier run made it from the same version of
    the table, the metrics when the staging table was made from this model file.
    """
    asset = pg_label(staging)
    name = ".".join(str(part) for part in table)
    kinds = {
        "SVMRegressionAlgorithm": "regression",
        "RandomForestRegressionAlgorithm": "regression",
        "LinearRegressionAlgorithm": "regression",
        "RandomForestClassificationAlgorithm": "classification",
        "LogisticRegressionAlgorithm": "classification",
    }
    if kinds.get(algorithm) != kind:
        raise ValueError(
            f"{asset}: {algorithm} is not a {kind} algorithm (known: "
            f"{', '.join(f'{a} ({k})' for a, k in kinds.items())}); fix: choose an "
            "algorithm for the model's template (TrainedFloatMeasure: regression, "
            "TrainedCategoricalMeasure: classification)"
        )

    def estimator():
        """The scikit-learn estimator of `algorithm`, with the declared settings."""
        settings = dict(hyperparameters)
        depth = settings.get("max_depth")
        depth = None if depth is None else int(depth)
        if algorithm == "SVMRegressionAlgorithm":
            return SVR(kernel=settings["kernel"], C=float(settings["c"]))
        if algorithm == "RandomForestRegressionAlgorithm":
            trees = int(settings["n_estimators"])
            return RandomForestRegressor(trees, max_depth=depth, random_state=0)
        if algorithm == "LinearRegressionAlgorithm":
            return LinearRegression()
        if algorithm == "RandomForestClassificationAlgorithm":
            trees = int(settings["n_estimators"])
            return RandomForestClassifier(trees, max_depth=depth, random_state=0)
        return LogisticRegression(C=float(settings["c"]), max_iter=1000)

    with pg_connect(postgres, asset) as connection:
        with connection.cursor() as cursor:
            found = pg_columns(cursor, table)
            version = pg_version(cursor, table)
    columns = [column[0] for column in found]
    if version is None:
        raise RuntimeError(
            f"{asset}: the training table {name} does not exist; fix: compute it first"
        )
    missing = [column for column in [*features, objective] if column not in columns]
    if missing:
        raise ValueError(
            f"{asset}: the training table {name} has no column "
            f"{', '.join(missing)} (its columns: {', '.join(columns)}); fix: name "
            f"columns of {name} in the template's features and objective"
        )

    fitted: dict = {}

    def fit() -> dict:
        """The fitted model, its metrics and test rows, computed once per run."""
        if fitted:
            return fitted
        # The table is collected in memory: acceptable at the sizes a model trains
        # on (scikit-learn needs the rows in memory anyway).
        with pg_connect(postgres, asset) as connection:
            with connection.cursor() as cursor:
                data = pg_read_arrow(cursor, table)
        for column in [*features, objective]:
            nulls = data.column(column).null_count
            if nulls:
                raise ValueError(
                    f"{asset}: column {column} of {name} has {nulls} NULL value(s); "
                    "fix: train on a derived table without them (e.g. WHERE "
                    f"{column} IS NOT NULL)"
                )
        try:
            x = numpy.column_stack(
                [data.column(f).to_numpy().astype(numpy.float64) for f in features]
            )
        except (ValueError, TypeError, pyarrow.ArrowException) as error:
            raise ValueError(
                f"{asset}: a feature of {name} is not numeric ({error}); fix: use "
                "numeric columns as features, or derive them by SQL"
            ) from None
        labels = data.column(objective).to_pylist()
        if kind == "regression":
            y = numpy.asarray(labels, dtype=numpy.float64)
        else:
            y = numpy.asarray([str(label) for label in labels], dtype=object)
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=0.2, random_state=0
        )
        model = estimator()
        model.fit(x_train, y_train)
        predicted = model.predict(x_test)
        if kind == "regression":
            metrics = [
                ("r2", r2_score(y_test, predicted)),
                ("mae", mean_absolute_error(y_test, predicted)),
                ("rmse", math.sqrt(mean_squared_error(y_test, predicted))),
            ]
        else:
            # zero_division=0 is the value scikit-learn gives a class that is never
            # predicted, without its warning.
            f1 = f1_score(y_test, predicted, average="macro", zero_division=0)
            metrics = [
                ("accuracy", accuracy_score(y_test, predicted)),
                ("f1_macro", f1),
            ]
        metrics += [("n_train", len(y_train)), ("n_test", len(y_test))]
        fitted.update(model=model, metrics=metrics, x_test=x_test)
        return fitted

    model_path = os.path.join(lake_path, model_file)
    parts = ["postgres_train_model", kind, algorithm, hyperparameters, features]
    with producing(model_path, [*parts, objective, table, version]) as out:
        if out is not None:
            model = fit()["model"]
            # A float32 input named "input", one column per feature; a classifier's
            # labels and probabilities as plain tensors (no ZipMap).
            options = {"zipmap": False} if kind == "classification" else {}
            onnx_model = convert_sklearn(
                model,
                initial_types=[("input", FloatTensorType([None, len(features)]))],
                options={id(model): options},
                target_opset={"": 17, "ai.onnx.ml": 3},
            )
            with open(out.part, "wb") as handle:
                handle.write(onnx_model.SerializeToString())
            # Published only if onnxruntime loads it and scores rows with it.
            session = onnxruntime.InferenceSession(
                out.part, providers=["CPUExecutionProvider"]
            )
            session.run(None, {"input": fit()["x_test"].astype(numpy.float32)})

    # The metrics are made from the model file: a new model, new metrics.
    metrics_version = step_key("postgres_train_model_metrics", marker_text(model_path))
    with pg_connect(postgres, asset) as connection:
        with connection.cursor() as cursor:
            if pg_is_current(cursor, staging, metrics_version):
                return
            if pg_published_from(
                cursor, staging, target, target_columns, metrics_version
            ):
                return
            names, values = zip(*fit()["metrics"])
            metrics = pyarrow.table(
                {
                    "metric": pyarrow.array(names, pyarrow.string()),
                    "value": pyarrow.array(values, pyarrow.float64()),
                }
            )
            pg_load_arrow(cursor, staging, metrics, metrics_version)
