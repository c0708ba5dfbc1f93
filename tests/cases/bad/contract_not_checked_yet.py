# Contracts are checked by the python recipes on the embedded lake; until an R
# script checks them, a universe that declares one is refused there.
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
    dag,
    default_tabular_schema,
)

checked = [NumericIdentifier("from_id", min=0), NumericIdentifier("to_id")]
edge = RowStruct(name="edge", attributes=checked)
address = WebLocation(address="https://example.org/e.tsv")
remote = RemoteStorage(location=address, encoding=TSVEncoding())
edges = StaticDataTable(
    name="edges", schema=default_tabular_schema(edge), setup=RemoteStorageSetup(remote=remote)
)
dataset = DataSet(name="graphs", datum_templates=[edge], assets=[edges]).replicate_to_local(
    HiveTableStorage(location=MinioLocation(name="graphs"), encoding=ParquetEncoding()),
    "tmp/graphs",
    CSVEncoding(),
)
dag(Universe(name="lab", datasets=[dataset]), ["AllAssetsComputed"], "r")
