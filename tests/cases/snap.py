"""The SNAP example of API.md, verbatim: twelve gzip TSV graphs replicated to ORC."""

from aorist import (
    CSVEncoding,
    CSVHeader,
    DataSet,
    GzipCompression,
    HiveTableStorage,
    IdentifierTuple,
    MinioLocation,
    NumericIdentifier,
    ORCEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    StaticDataTable,
    TSVEncoding,
    Universe,
    WebLocation,
    default_tabular_schema,
)

attributes = [NumericIdentifier("from_id"), NumericIdentifier("to_id")]
edge_tuple = IdentifierTuple(name="edge", attributes=attributes)
names = [
    "ca-AstroPh", "ca-CondMat", "ca-GrQc", "ca-HepPh", "ca-HepTh", "web-BerkStan",
    "web-Google", "web-NotreDame", "web-Stanford", "amazon0302", "amazon0312", "amazon0505",
]  # fmt: skip
tables = []
for name in names:
    key = name.replace("-", "_").lower()
    remote = RemoteStorage(
        location=WebLocation(address=f"https://snap.stanford.edu/data/{name}.txt.gz"),
        encoding=TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=4)),
    )
    tables.append(
        StaticDataTable(
            name=key,
            schema=default_tabular_schema(edge_tuple),
            setup=RemoteStorageSetup(remote=remote),
            tag=key,
        )
    )
snap = DataSet(name="snap", description="SNAP graphs", datum_templates=[edge_tuple], assets=tables)
local = HiveTableStorage(location=MinioLocation(name="snap"), encoding=ORCEncoding())
snap = snap.replicate_to_local(local, "tmp/snap", CSVEncoding())
universe = Universe(name="my_cluster", datasets=[snap])
