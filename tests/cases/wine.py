"""UCI wine: one CSV file with a header line, replicated to Parquet."""

from aorist import (
    Categorical,
    CSVEncoding,
    CSVHeader,
    DataSet,
    Float64,
    HiveTableStorage,
    MinioLocation,
    ParquetEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    Universe,
    WebLocation,
    default_tabular_schema,
)

columns = [
    "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
    "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
    "od280_od315", "proline",
]  # fmt: skip
wine_row = RowStruct(name="wine", attributes=[*(Float64(c) for c in columns), Categorical("class")])
remote = RemoteStorage(
    location=WebLocation(address="https://example.org/wine.csv"),
    encoding=CSVEncoding(header=CSVHeader(num_lines=1)),
)
wine = DataSet(
    name="wine",
    description="Chemical analysis of wines from three cultivars.",
    datum_templates=[wine_row],
    assets=[
        StaticDataTable(
            name="wine_table",
            schema=default_tabular_schema(wine_row),
            setup=RemoteStorageSetup(remote=remote),
        )
    ],
)
wine = wine.replicate_to_local(
    HiveTableStorage(location=MinioLocation(name="wine"), encoding=ParquetEncoding()),
    "tmp/wine",
    CSVEncoding(),
)
universe = Universe(name="wine_lab", datasets=[wine])
