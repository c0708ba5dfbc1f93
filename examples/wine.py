"""Machine learning on the UCI wine data: the seed's "What if we want to do Machine Learning?".

    python examples/wine.py [--dialect python] [--out wine-run]

The UCI wine data (178 wines, 13 measurements, 3 cultivars; scikit-learn ships a copy)
is written out as a CSV file and served from 127.0.0.1. The universe replicates it into
the embedded lake, trains a support vector regression of `alcohol` on the measurements
3-10 of the seed (malic acid ... proanthocyanins), scores every wine with the ONNX
model, and classifies the cultivar with a random forest. The generated program is
written to `<out>/wine.py` (or `.ipynb`, ...) and run; the metrics tables are printed.
"""

from __future__ import annotations

import argparse
import csv
import http.server
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

from aorist import (
    Categorical,
    ComputedFromLocalData,
    CSVEncoding,
    CSVHeader,
    DataSet,
    Float64,
    HiveTableStorage,
    KeyInt64Identifier,
    LocalFileStorage,
    LocalFileSystemLocation,
    MinioLocation,
    ONNXEncoding,
    ParquetEncoding,
    PredictionsFromTrainedCategoricalMeasure,
    PredictionsFromTrainedFloatMeasure,
    RandomForestClassificationAlgorithm,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    SupervisedModel,
    SVMRegressionAlgorithm,
    TrainedCategoricalMeasure,
    TrainedFloatMeasure,
    Universe,
    WebLocation,
    dag,
    default_tabular_schema,
)

# The columns of UCI's wine.data, in its order (the class first), after a key.
MEASUREMENTS = [
    "alcohol",
    "malic_acid",
    "ash",
    "alcalinity_of_ash",
    "magnesium",
    "total_phenols",
    "flavanoids",
    "nonflavanoid_phenols",
    "proanthocyanins",
    "color_intensity",
    "hue",
    "od280_od315_of_diluted_wines",
    "proline",
]
# The seed's features: attributes 3-10 of the wine row (1-based, after the class).
FEATURES = MEASUREMENTS[1:9]


def write_wine_csv(path: Path) -> int:
    """Write scikit-learn's copy of UCI wine as CSV (header, wine_id, class, measurements)."""
    from sklearn.datasets import load_wine

    data = load_wine()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["wine_id", "class", *MEASUREMENTS])
        for index, (row, label) in enumerate(zip(data.data, data.target, strict=True)):
            writer.writerow([index + 1, f"class_{label}", *(repr(float(v)) for v in row)])
    return len(data.data)


def wine_universe(base_url: str) -> Universe:
    """The wine table, two models trained on it and the predictions of each."""
    wine_row = RowStruct(
        name="wine_row",
        attributes=[
            KeyInt64Identifier("wine_id"),
            Categorical("class", comment="the cultivar"),
            *(Float64(name) for name in MEASUREMENTS),
        ],
    )
    lake = HiveTableStorage(location=MinioLocation(name="wine"), encoding=ParquetEncoding())
    models = LocalFileStorage(
        location=LocalFileSystemLocation(path="models"), encoding=ONNXEncoding()
    )
    wine_table = StaticDataTable(
        name="wine_table",
        schema=default_tabular_schema(wine_row),
        setup=RemoteStorageSetup(
            remote=RemoteStorage(
                location=WebLocation(address=f"{base_url}/wine.csv"),
                encoding=CSVEncoding(header=CSVHeader(num_lines=1)),
            )
        ),
    )
    wine = DataSet(
        name="wine",
        description="UCI wine: chemical analysis of 178 wines from three cultivars.",
        datum_templates=[wine_row],
        assets=[wine_table],
    )
    alcohol_model = SupervisedModel(
        name="alcohol_model",
        template=TrainedFloatMeasure(
            name="predicted_alcohol", features=FEATURES, objective="alcohol"
        ),
        algorithm=SVMRegressionAlgorithm(),
        setup=ComputedFromLocalData(
            source_asset_names={"training_dataset": "wine_table"}, target=models
        ),
    )
    wine.add_asset(alcohol_model)
    wine.add_asset(
        StaticDataTable(
            name="alcohol_predictions",
            schema=default_tabular_schema(
                PredictionsFromTrainedFloatMeasure(
                    name="predicted_alcohol", key_attributes=[KeyInt64Identifier("wine_id")]
                )
            ),
            setup=ComputedFromLocalData(
                source_asset_names={"model": "alcohol_model", "data": "wine_table"},
                target=lake,
            ),
        )
    )
    wine.add_asset(
        SupervisedModel(
            name="cultivar_model",
            template=TrainedCategoricalMeasure(
                name="predicted_class", features=MEASUREMENTS, objective="class"
            ),
            algorithm=RandomForestClassificationAlgorithm(n_estimators=50),
            setup=ComputedFromLocalData(
                source_asset_names={"training_dataset": "wine_table"}, target=models
            ),
        )
    )
    wine.add_asset(
        StaticDataTable(
            name="cultivar_predictions",
            schema=default_tabular_schema(
                PredictionsFromTrainedCategoricalMeasure(
                    name="predicted_class", key_attributes=[KeyInt64Identifier("wine_id")]
                )
            ),
            setup=ComputedFromLocalData(
                source_asset_names={"model": "cultivar_model", "data": "wine_table"},
                target=lake,
            ),
        )
    )
    return Universe(name="wine_ml", datasets=[wine])


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request (setting the attribute on a partial would not)."""

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", default="python", choices=["python", "r"])
    parser.add_argument("--out", default="wine-run", type=Path)
    args = parser.parse_args()
    out = args.out.resolve()
    www = out / "www"
    write_wine_csv(www / "wine.csv")
    handler = partial(QuietHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        code = dag(wine_universe(base_url), ["AllAssetsComputed"], args.dialect)
        program = out / ("wine.py" if args.dialect == "python" else "wine.R")
        program.write_text(code, encoding="utf-8")
        command = [sys.executable] if args.dialect == "python" else ["Rscript"]
        subprocess.run([*command, program.name], cwd=out, check=True)
    finally:
        server.shutdown()
    import duckdb

    with duckdb.connect(str(out / "lake" / "lake.duckdb"), read_only=True) as con:
        for table in ("alcohol_model_metrics", "cultivar_model_metrics"):
            print(f"wine.{table}:")
            for metric, value in con.execute(f"SELECT * FROM wine.{table}").fetchall():
                print(f"  {metric:10} {value:.4f}")
    models = sorted(p.name for p in (out / "lake" / "models").glob("*.onnx"))
    print(f"models: {', '.join(models)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
