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

# The table `mirror.graphs` would live in `_staging/graphs`, where dataset `graphs`
# stages its files.
staging = HiveTableStorage(location=MinioLocation(name="_staging"), encoding=ParquetEncoding())
datasets = [
    DataSet(name="graphs", datum_templates=[EDGE], assets=[asset("edges")]).replicate_to_local(
        LAKE, "tmp/graphs", CSVEncoding()
    ),
    DataSet(name="mirror", datum_templates=[EDGE], assets=[asset("graphs")]).replicate_to_local(
        staging, "tmp/mirror", CSVEncoding()
    ),
]
dag(Universe(name="lab", datasets=datasets), ["AllAssetsComputed"])
