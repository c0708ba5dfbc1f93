"""The quickstart universe: graphs and a wine table, replicated into the embedded lake.

`universe(base_url)` declares it with its sources under `base_url`; the quickstart
serves small files there from 127.0.0.1 so everything runs offline.
"""

from __future__ import annotations

from aorist import (
    Categorical,
    CSVEncoding,
    CSVHeader,
    DataSet,
    Float64,
    GzipCompression,
    HiveTableStorage,
    IdentifierTuple,
    MinioLocation,
    NumericIdentifier,
    ORCEncoding,
    ParquetEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    TSVEncoding,
    Universe,
    WebLocation,
    default_tabular_schema,
)

GRAPHS = ["ca-GrQc", "ca-HepTh", "web-Stanford"]
WINE_COLUMNS = [
    "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
    "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
    "od280_od315", "proline",
]  # fmt: skip


def universe(base_url: str) -> Universe:
    edge = IdentifierTuple(
        name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
    )
    graphs = DataSet(
        name="snap",
        description="Collaboration and web graphs (SNAP-like samples).",
        datum_templates=[edge],
        assets=[
            StaticDataTable(
                name=name.replace("-", "_").lower(),
                schema=default_tabular_schema(edge),
                setup=RemoteStorageSetup(
                    remote=RemoteStorage(
                        location=WebLocation(address=f"{base_url}/{name}.txt.gz"),
                        encoding=TSVEncoding(
                            compression=GzipCompression(), header=CSVHeader(num_lines=4)
                        ),
                    )
                ),
            )
            for name in GRAPHS
        ],
    ).replicate_to_local(
        HiveTableStorage(location=MinioLocation(name="snap"), encoding=ORCEncoding()),
        "tmp/snap",
        CSVEncoding(),
    )
    wine_row = RowStruct(
        name="wine", attributes=[*(Float64(c) for c in WINE_COLUMNS), Categorical("class")]
    )
    wine = DataSet(
        name="wine",
        description="Chemical analysis of wines (a synthetic sample shaped like UCI wine).",
        datum_templates=[wine_row],
        assets=[
            StaticDataTable(
                name="wine_table",
                schema=default_tabular_schema(wine_row),
                setup=RemoteStorageSetup(
                    remote=RemoteStorage(
                        location=WebLocation(address=f"{base_url}/wine.csv"),
                        encoding=CSVEncoding(header=CSVHeader(num_lines=1)),
                    )
                ),
            )
        ],
    ).replicate_to_local(
        HiveTableStorage(location=MinioLocation(name="wine"), encoding=ParquetEncoding()),
        "tmp/wine",
        CSVEncoding(),
    )
    return Universe(name="quickstart", datasets=[graphs, wine])
