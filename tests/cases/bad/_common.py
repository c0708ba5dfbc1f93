"""A small valid universe the bad fixtures break one way each."""

from aorist import (
    CSVEncoding,
    DataSet,
    HiveTableStorage,
    MinioLocation,
    NumericIdentifier,
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

EDGE = RowStruct(name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")])
LAKE = HiveTableStorage(location=MinioLocation(name="graphs"), encoding=ParquetEncoding())


def asset(name="edges", encoding=None, setup=None):
    remote = RemoteStorage(
        location=WebLocation(address=f"https://example.org/{name}.tsv"),
        encoding=encoding or TSVEncoding(),
    )
    return StaticDataTable(
        name=name,
        schema=default_tabular_schema(EDGE),
        setup=setup or RemoteStorageSetup(remote=remote),
    )


def universe(assets=None, target=LAKE, **kwargs):
    dataset = DataSet(name="graphs", datum_templates=[EDGE], assets=assets or [asset()])
    dataset = dataset.replicate_to_local(target, "tmp/graphs", CSVEncoding())
    return Universe(name="lab", datasets=[dataset], **kwargs)
