"""Sources of every shape: JSON lines, zip, bz2, a declared sha256, two datasets."""

from aorist import (
    BZip2Compression,
    CSVEncoding,
    DataSet,
    FreeText,
    HiveTableStorage,
    Int64,
    KeyStringIdentifier,
    MinioLocation,
    NewlineDelimitedJSONEncoding,
    ORCEncoding,
    ParquetEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    TSVEncoding,
    Universe,
    WebLocation,
    ZipCompression,
    default_tabular_schema,
)

event = RowStruct(
    name="event",
    attributes=[KeyStringIdentifier("id"), Int64("count"), FreeText("note", nullable=True)],
)
schema = default_tabular_schema(event)


def table(name, address, encoding, sha256=None):
    remote = RemoteStorage(location=WebLocation(address=address), encoding=encoding, sha256=sha256)
    return StaticDataTable(name=name, schema=schema, setup=RemoteStorageSetup(remote=remote))


events = DataSet(
    name="events",
    datum_templates=[event],
    assets=[
        table("from_jsonl", "https://example.org/events.jsonl", NewlineDelimitedJSONEncoding()),
        table(
            "from_zip",
            "https://example.org/events.zip",
            CSVEncoding(compression=ZipCompression()),
            sha256="0" * 64,
        ),
    ],
).replicate_to_local(
    HiveTableStorage(location=MinioLocation(name="events"), encoding=ParquetEncoding()),
    "tmp/events",
    CSVEncoding(),
)
archive = DataSet(
    name="archive",
    datum_templates=[event],
    assets=[
        table(
            "from_bz2",
            "https://example.org/events.tsv.bz2",
            TSVEncoding(compression=BZip2Compression()),
        ),
        table("from_zip", "https://example.org/old.zip", CSVEncoding(compression=ZipCompression())),
    ],
).replicate_to_local(
    HiveTableStorage(location=MinioLocation(name="archive"), encoding=ORCEncoding()),
    "tmp/archive",
    CSVEncoding(),
)
universe = Universe(name="mixed", datasets=[events, archive])
