"""Derived assets: SQL over two datasets, a chain, a function, a model and its predictions."""

import sys
from pathlib import Path

from aorist import (
    ComputedFromLocalData,
    Count,
    CSVEncoding,
    CSVHeader,
    DataSet,
    Float64,
    HiveTableStorage,
    IdentifierTuple,
    KeyInt64Identifier,
    LinearRegressionAlgorithm,
    LocalFileStorage,
    LocalFileSystemLocation,
    MinioLocation,
    NumericIdentifier,
    ONNXEncoding,
    ORCEncoding,
    ParquetEncoding,
    PredictionsFromTrainedFloatMeasure,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    SupervisedModel,
    TrainedFloatMeasure,
    UndefinedTabularSchema,
    Universe,
    WebLocation,
    default_tabular_schema,
)

sys.path.insert(0, str(Path(__file__).parent))
from graph_module import out_degree  # noqa: E402

edge = IdentifierTuple(
    name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
)
lake = HiveTableStorage(location=MinioLocation(name="graphs"), encoding=ParquetEncoding())
degree_row = IdentifierTuple(
    name="degree_row", attributes=[NumericIdentifier("node"), Count("degree")]
)
graphs = DataSet(
    name="graphs",
    datum_templates=[edge, degree_row],
    assets=[
        StaticDataTable(
            name="edges",
            schema=default_tabular_schema(edge),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(address="https://example.org/edges.tsv"),
                    encoding=CSVEncoding(header=CSVHeader(num_lines=1)),
                )
            ),
        ),
        StaticDataTable(
            name="degrees",
            schema=default_tabular_schema(degree_row),
            setup=ComputedFromLocalData(
                source_asset_names={"edges": "edges"},
                target=HiveTableStorage(
                    location=MinioLocation(name="graphs"), encoding=ORCEncoding()
                ),
                sql="SELECT from_id AS node, count(*) AS degree FROM {edges} GROUP BY 1 ORDER BY 1",
            ),
        ),
        StaticDataTable(
            name="hubs",
            schema=UndefinedTabularSchema(),
            setup=ComputedFromLocalData(
                source_asset_names={"degrees": "degrees"},
                target=lake,
                sql="SELECT node FROM {degrees} WHERE degree > 1",
            ),
        ),
        StaticDataTable(
            name="out_degree",
            schema=UndefinedTabularSchema(),
            setup=ComputedFromLocalData(
                source_asset_names={"edges": "edges"}, target=lake, function=out_degree
            ),
        ),
    ],
)
measure = RowStruct(
    name="measure", attributes=[KeyInt64Identifier("node"), Float64("weight"), Float64("size")]
)
nodes = DataSet(
    name="nodes",
    datum_templates=[measure],
    assets=[
        StaticDataTable(
            name="measures",
            schema=default_tabular_schema(measure),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(address="https://example.org/measures.csv"),
                    encoding=CSVEncoding(header=CSVHeader(num_lines=1)),
                )
            ),
        ),
        StaticDataTable(
            name="hub_measures",
            schema=UndefinedTabularSchema(),
            setup=ComputedFromLocalData(
                source_asset_names={"hubs": "graphs.hubs", "measures": "measures"},
                target=lake,
                sql="SELECT m.* FROM {measures} AS m JOIN {hubs} AS h USING (node)",
            ),
        ),
        SupervisedModel(
            name="size_model",
            template=TrainedFloatMeasure(
                name="predicted_size", features=["weight"], objective="size"
            ),
            algorithm=LinearRegressionAlgorithm(),
            setup=ComputedFromLocalData(
                source_asset_names={"training_dataset": "measures"},
                target=LocalFileStorage(
                    location=LocalFileSystemLocation(path="models"), encoding=ONNXEncoding()
                ),
            ),
        ),
        StaticDataTable(
            name="size_predictions",
            schema=default_tabular_schema(
                PredictionsFromTrainedFloatMeasure(
                    name="predicted_size", key_attributes=[KeyInt64Identifier("node")]
                )
            ),
            setup=ComputedFromLocalData(
                source_asset_names={"model": "size_model", "data": "measures"}, target=lake
            ),
        ),
    ],
)
universe = Universe(name="derived", datasets=[graphs, nodes])
