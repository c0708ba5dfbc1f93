from aorist import (
    CSVEncoding,
    DataSet,
    HiveTableStorage,
    MinioLocation,
    ParquetEncoding,
    Universe,
    dag,
)

from _common import EDGE, LAKE, asset

# `Graphs/EDGES` and `graphs/edges` are one directory on a case-insensitive file system.
other = HiveTableStorage(location=MinioLocation(name="Graphs"), encoding=ParquetEncoding())
datasets = [
    DataSet(name="graphs", datum_templates=[EDGE], assets=[asset("edges")]).replicate_to_local(
        LAKE, "tmp/graphs", CSVEncoding()
    ),
    DataSet(name="mirror", datum_templates=[EDGE], assets=[asset("EDGES")]).replicate_to_local(
        other, "tmp/mirror", CSVEncoding()
    ),
]
dag(Universe(name="lab", datasets=datasets), ["AllAssetsComputed"])
