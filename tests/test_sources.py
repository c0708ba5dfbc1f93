"""The sources people have: delimited files with their own delimiter and quote.

Each test serves the source on a loopback server, runs the generated program (python
or R, fused or in separate steps) and reads the lake back; a rerun changes nothing.
"""

from __future__ import annotations

import csv
import gzip
import io
import subprocess
from pathlib import Path

import pytest
from test_r_dialect import rscript, run_r

from aorist import (
    CSVEncoding,
    CSVHeader,
    DataSet,
    DirectoryLayout,
    EndpointConfig,
    Float64,
    FreeText,
    GzipCompression,
    HiveTableStorage,
    InlineStorage,
    Int64,
    LocalFileSystemLocation,
    MinioLocation,
    NewlineDelimitedJSONEncoding,
    ORCEncoding,
    ParquetEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    TabularSchema,
    Universe,
    WebLocation,
    dag,
    default_tabular_schema,
)
from aorist.errors import DeclarationError, UnsupportedStorageError

from conftest import airflow, dry_run, lake_query, output_of, run_generated, touch_later

TRIP = RowStruct(
    name="trip", attributes=[Int64("id"), FreeText("note", nullable=True), Float64("fare")]
)
# Semicolons, quotes and a line break inside quoted fields; a comma is plain text here.
TRIPS = b'id;note;fare\n1;"a; b";2.5\n2;"say ""hi""";3\n3;"two\nlines";0.5\n4;x,y;1\n5;;7\n'
# No quoting at all: a double quote is text, the pipe separates.
PIPES = b'1|"quoted"|2.5\n2|plain|3.0\n3|it\'s|4.0\n'


def universe(base: str, trips: CSVEncoding | None = None, endpoints=None) -> Universe:
    """Dataset `s`: `trips` (semicolons, a header) and `pipes` (pipes, no quoting,
    gzip), from /trips.csv and /pipes.psv.gz (into the lake, or the engine of
    `endpoints`)."""
    sources = {
        "trips": ("trips.csv", trips or CSVEncoding(delimiter=";", header=CSVHeader())),
        "pipes": (
            "pipes.psv.gz",
            CSVEncoding(delimiter="|", quote="", compression=GzipCompression()),
        ),
    }
    tables = [
        StaticDataTable(
            name=name,
            schema=default_tabular_schema(TRIP),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(location=WebLocation(address=f"{base}/{file}"), encoding=e)
            ),
        )
        for name, (file, e) in sources.items()
    ]
    dataset = DataSet(name="s", datum_templates=[TRIP], assets=tables).replicate_to_local(
        HiveTableStorage(location=MinioLocation(name="s"), encoding=ParquetEncoding()),
        "tmp/s",
        CSVEncoding(),
    )
    return Universe(name="sources", datasets=[dataset], endpoints=endpoints or EndpointConfig())


def serve(root: Path) -> None:
    (root / "trips.csv").write_bytes(TRIPS)
    (root / "pipes.psv.gz").write_bytes(gzip.compress(PIPES, mtime=0))


def parsed(body: bytes, **dialect) -> list[tuple]:
    """The rows Python's csv module reads from body (the expectation, independently)."""
    rows = csv.reader(io.StringIO(body.decode(), newline=""), **dialect)
    return sorted((int(i), note if note else None, float(fare)) for i, note, fare in list(rows))


def run(dialect: str, code: str, cwd: Path) -> str:
    if dialect == "r":
        done = run_r(code, cwd)
        return done.stdout + done.stderr
    return output_of(run_generated(code, cwd))


def run_failing(dialect: str, code: str, cwd: Path) -> str:
    """What the program says as it fails (it must)."""
    if dialect == "r":
        (cwd / "main.R").write_text(code)
        done = subprocess.run(
            [rscript(), "--vanilla", "main.R"], cwd=cwd, capture_output=True, text=True
        )
        assert done.returncode != 0, done.stdout
        return done.stdout + done.stderr
    return output_of(run_generated(code, cwd, expect_ok=False))


@pytest.mark.parametrize("dialect", ["python", "r"])
@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_a_delimited_source_with_its_own_delimiter_and_quote_replicates(
    http_server, tmp_path, dialect, fuse
):
    serve(http_server.root)
    code = dag(universe(http_server.base_url), ["AllAssetsComputed"], dialect, fuse=fuse)
    out = run(dialect, code, tmp_path)
    trips = parsed(TRIPS.split(b"\n", 1)[1], delimiter=";")
    assert trips[2] == (3, "two\nlines", 0.5) and trips[4] == (5, None, 7.0)
    assert lake_query(tmp_path, "SELECT * FROM s.trips ORDER BY id") == trips, out
    pipes = parsed(PIPES, delimiter="|", quoting=csv.QUOTE_NONE)
    assert pipes[0] == (1, '"quoted"', 2.5)
    assert lake_query(tmp_path, "SELECT * FROM s.pipes ORDER BY id") == pipes, out

    # A rerun changes nothing.
    files = sorted(tmp_path.rglob("*.parquet"))
    before = [p.stat().st_mtime_ns for p in files]
    run(dialect, code, tmp_path)
    assert [p.stat().st_mtime_ns for p in files] == before


@pytest.mark.parametrize("dialect", ["python", "r"])
@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_a_source_read_with_the_wrong_delimiter_fails_naming_the_line(
    http_server, tmp_path, dialect, fuse
):
    """The trips are declared comma-separated: no line has three fields."""
    serve(http_server.root)
    wrong = CSVEncoding(header=CSVHeader())
    code = dag(universe(http_server.base_url, wrong), ["AllAssetsComputed"], dialect, fuse=fuse)
    out = run_failing(dialect, code, tmp_path)
    if fuse:
        # The fused load reads the download: its line 2 is the first after the header.
        assert "s.trips.download:2: expected 3 comma-separated fields, found 1" in out, out
    else:
        # The separate steps find it when the staged file is read.
        assert "as header-less CSV with 3 columns (id, note, fare)" in out, out
        assert "1 comma-separated field(s)" in out, out
    # The other table, declared right, is published.
    assert len(lake_query(tmp_path, "SELECT * FROM s.pipes")) == 3


# The columns in another order than the schema's, under other names, with one more.
RENAMED = b'Fare;Trip ID;Extra;Note\n2.5;1;x;"a; b"\n3;2;y;\n'
KEYS = b'{"Trip ID": 1, "Note": "a", "Fare": 2.5, "extra": 0}\n{"Fare": 3, "Trip ID": 2}\n'
SOURCE_NAMES = {"Trip ID": "id", "Note": "note", "Fare": "fare"}


def renamed_universe(base: str, names=("renamed", "keys"), header: bool = True) -> Universe:
    """Dataset `r`: `renamed` (semicolons, a header naming the columns in another
    order) and `keys` (JSON lines), each read by the names SOURCE_NAMES gives."""
    schema = TabularSchema(TRIP, TRIP.attributes, source_names=SOURCE_NAMES)
    sources = {
        "renamed": (
            "renamed.csv",
            CSVEncoding(delimiter=";", header=CSVHeader() if header else None),
        ),
        "keys": ("keys.jsonl", NewlineDelimitedJSONEncoding()),
    }
    sources = {name: sources[name] for name in names}
    tables = [
        StaticDataTable(
            name=name,
            schema=schema,
            setup=RemoteStorageSetup(
                remote=RemoteStorage(location=WebLocation(address=f"{base}/{file}"), encoding=e)
            ),
        )
        for name, (file, e) in sources.items()
    ]
    dataset = DataSet(name="r", datum_templates=[TRIP], assets=tables)
    return Universe(name="renames", datasets=[dataset])


@pytest.mark.parametrize("dialect", ["python", "r"])
@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_columns_are_read_by_the_names_the_source_gives_them(http_server, tmp_path, dialect, fuse):
    (http_server.root / "renamed.csv").write_bytes(RENAMED)
    (http_server.root / "keys.jsonl").write_bytes(KEYS)
    # The R script has no JSON parser: the CSV table alone.
    names = ("renamed",) if dialect == "r" else ("renamed", "keys")
    code = dag(
        renamed_universe(http_server.base_url, names), ["AllAssetsComputed"], dialect, fuse=fuse
    )
    out = run(dialect, code, tmp_path)
    expected = [(1, "a; b", 2.5), (2, None, 3.0)]
    assert lake_query(tmp_path, "SELECT * FROM r.renamed ORDER BY id") == expected, out
    if dialect == "python":
        assert lake_query(tmp_path, "SELECT * FROM r.keys ORDER BY id") == [
            (1, "a", 2.5),
            (2, None, 3.0),
        ]
    files = sorted(tmp_path.rglob("*.parquet"))
    before = [p.stat().st_mtime_ns for p in files]
    run(dialect, code, tmp_path)
    assert [p.stat().st_mtime_ns for p in files] == before

    # A header without one of the names fails, naming those it has.
    (http_server.root / "renamed.csv").write_bytes(RENAMED.replace(b"Trip ID", b"TripID"))
    touch_later(http_server.root / "renamed.csv")
    said = run_failing(dialect, code, tmp_path)
    assert (
        "the header names no column 'Trip ID' (it names 'Fare', 'TripID', 'Extra', 'Note'); "
        "fix: check the schema's source_names and the encoding's header lines"
    ) in said, said
    assert lake_query(tmp_path, "SELECT * FROM r.renamed ORDER BY id") == expected


def test_source_names_are_checked_where_they_are_declared() -> None:
    with pytest.raises(DeclarationError, match=r"source_names\['ID'\]: 'idd' is not an attribute"):
        TabularSchema(TRIP, TRIP.attributes, source_names={"ID": "idd"})
    with pytest.raises(DeclarationError, match="are both renamed to 'id'"):
        TabularSchema(TRIP, TRIP.attributes, source_names={"ID": "id", "Id": "id"})
    with pytest.raises(DeclarationError, match="'id' and 'fare' would both be read from"):
        TabularSchema(TRIP, TRIP.attributes, source_names={"id": "fare"})
    # Read by name from a header the source must then have.
    headerless = renamed_universe("http://127.0.0.1:1", header=False)
    with pytest.raises(DeclarationError, match="declares no header"):
        dag(headerless, ["AllAssetsComputed"], "python")


def columnar_universe(base: str, names=("pq", "orc")) -> Universe:
    """Dataset `c`: `pq`, a Parquet file whose columns are the attributes' (in another
    order, with one more), and `orc`, an ORC file whose columns SOURCE_NAMES renames."""
    tables = {
        "pq": (ParquetEncoding(), default_tabular_schema(TRIP)),
        "orc": (
            ORCEncoding(),
            TabularSchema(TRIP, TRIP.attributes, source_names=SOURCE_NAMES),
        ),
    }
    assets = [
        StaticDataTable(
            name=name,
            schema=schema,
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(address=f"{base}/{name}.{name}"), encoding=encoding
                )
            ),
        )
        for name, (encoding, schema) in tables.items()
        if name in names
    ]
    return Universe(
        name="columnar", datasets=[DataSet(name="c", datum_templates=[TRIP], assets=assets)]
    )


def serve_columnar(root: Path) -> None:
    import pyarrow
    import pyarrow.orc
    import pyarrow.parquet

    pyarrow.parquet.write_table(
        pyarrow.table(
            {"fare": [2.5, 3.0], "extra": ["x", "y"], "note": ['say "hi"', None], "id": [1, 2]}
        ),
        root / "pq.pq",
    )
    pyarrow.orc.write_table(
        pyarrow.table({"Fare": [0.5], "Note": ["a,b\nc"], "Trip ID": [7]}), root / "orc.orc"
    )


@pytest.mark.parametrize("dialect", ["python", "r"])
@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_parquet_and_orc_sources_are_read_by_column_name(http_server, tmp_path, dialect, fuse):
    serve_columnar(http_server.root)
    # The R script reads Parquet with the duckdb program; ORC with the python recipe.
    code = dag(columnar_universe(http_server.base_url), ["AllAssetsComputed"], dialect, fuse=fuse)
    out = run(dialect, code, tmp_path)
    assert lake_query(tmp_path, "SELECT * FROM c.pq ORDER BY id") == [
        (1, 'say "hi"', 2.5),
        (2, None, 3.0),
    ], out
    assert lake_query(tmp_path, "SELECT * FROM c.orc") == [(7, "a,b\nc", 0.5)], out
    files = sorted(tmp_path.rglob("*.parquet"))
    before = [p.stat().st_mtime_ns for p in files]
    again = run(dialect, code, tmp_path)
    assert [p.stat().st_mtime_ns for p in files] == before, again


RIDE = RowStruct(
    name="ride",
    attributes=[Int64("id"), Float64("fare"), Int64("year"), FreeText("city")],
)
PARTITIONS = {
    "year=2023/city=oslo": [(1, 2.5)],
    "year=2024/city=oslo": [(2, 3.0), (3, 4.0)],
    "year=2024/city=san%20jose": [(4, 5.5)],
}


def write_partitions(root: Path, partitions: dict) -> None:
    """A Hive-partitioned directory of Parquet files, with what writers leave beside
    them (_SUCCESS, hidden checksums) that is no data."""
    import pyarrow
    import pyarrow.parquet

    for folder, rows in partitions.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        ids, fares = zip(*rows, strict=True)
        table = pyarrow.table({"fare": list(fares), "id": list(ids)})
        pyarrow.parquet.write_table(table, root / folder / "part-0.parquet")
        (root / folder / ".part-0.parquet.crc").write_bytes(b"crc")
    (root / "_SUCCESS").write_bytes(b"")


def hive_universe(directory: Path, encoding=None) -> Universe:
    ride = StaticDataTable(
        name="rides",
        schema=default_tabular_schema(RIDE),
        setup=RemoteStorageSetup(
            remote=RemoteStorage(
                location=LocalFileSystemLocation(path=str(directory)),
                encoding=encoding or ParquetEncoding(),
                layout=DirectoryLayout(),
            )
        ),
    )
    return Universe(
        name="hive", datasets=[DataSet(name="h", datum_templates=[RIDE], assets=[ride])]
    )


@pytest.mark.parametrize("dialect", ["python", "r"])
@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_a_hive_partitioned_directory_replicates_with_its_partition_columns(
    tmp_path, dialect, fuse
):
    directory = tmp_path / "rides"
    write_partitions(directory, PARTITIONS)
    work = tmp_path / "work"
    work.mkdir()
    code = dag(hive_universe(directory), ["AllAssetsComputed"], dialect, fuse=fuse)
    out = run(dialect, code, work)
    rows = [(1, 2.5, 2023, "oslo"), (2, 3.0, 2024, "oslo"), (3, 4.0, 2024, "oslo")]
    rows.append((4, 5.5, 2024, "san jose"))
    assert lake_query(work, "SELECT * FROM h.rides ORDER BY id") == rows, out

    # Nothing changed: nothing is made again.
    table = work / "lake/h/rides/rides.parquet"
    before = table.stat().st_mtime_ns
    run(dialect, code, work)
    assert table.stat().st_mtime_ns == before

    # A new partition is read by the next run; a dry run says so first.
    write_partitions(directory, {"year=2025/city=oslo": [(5, 1.0)]})
    if dialect == "python":
        states, said = dry_run(code, work, fresh=False)
        assert states["rides_downloaded"] == "stale (source changed upstream)", said
    out = run(dialect, code, work)
    assert lake_query(work, "SELECT * FROM h.rides ORDER BY id") == [*rows, (5, 1.0, 2025, "oslo")]


def test_a_directory_layout_is_refused_where_it_cannot_be_read() -> None:
    bad = hive_universe(Path("rides"), CSVEncoding())
    with pytest.raises(UnsupportedStorageError, match="a csv source cannot be read as a"):
        dag(bad, ["AllAssetsComputed"], "python")


def inline_universe(rows: list, endpoints=None) -> Universe:
    """Dataset `i`: `codes`, rows written in the declaration (into the lake, or the
    engine of `endpoints`)."""
    codes = StaticDataTable(
        name="codes",
        schema=default_tabular_schema(TRIP),
        setup=RemoteStorageSetup(remote=InlineStorage(rows=rows)),
    )
    dataset = DataSet(name="i", datum_templates=[TRIP], assets=[codes]).replicate_to_local(
        HiveTableStorage(location=MinioLocation(name="i"), encoding=ParquetEncoding()),
        "tmp/i",
        CSVEncoding(),
    )
    return Universe(name="inline", datasets=[dataset], endpoints=endpoints or EndpointConfig())


@pytest.mark.parametrize("dialect", ["python", "r"])
@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_inline_rows_are_a_table(tmp_path, dialect, fuse):
    """No network, no file: the rows are in the program, as escaped literals."""
    rows = [[1, 'say "hi", then\nleave', 2.5], [2, None, 3], [3, "it's", -0.125]]
    code = dag(inline_universe(rows), ["AllAssetsComputed"], dialect, fuse=fuse)
    out = run(dialect, code, tmp_path)
    expected = [(1, 'say "hi", then\nleave', 2.5), (2, None, 3.0), (3, "it's", -0.125)]
    assert lake_query(tmp_path, "SELECT * FROM i.codes ORDER BY id") == expected, out
    table = tmp_path / "lake/i/codes/codes.parquet"
    before = table.stat().st_mtime_ns
    run(dialect, code, tmp_path)
    assert table.stat().st_mtime_ns == before
    # Other rows in the declaration make the table again.
    code = dag(inline_universe([*rows, [4, "d", 1.0]]), ["AllAssetsComputed"], dialect, fuse=fuse)
    run(dialect, code, tmp_path)
    assert len(lake_query(tmp_path, "SELECT * FROM i.codes")) == 4


def test_an_inline_row_of_another_width_is_refused() -> None:
    with pytest.raises(
        DeclarationError, match=r"rows\[1\]: the row has 2 values, and the schema 3"
    ):
        dag(inline_universe([[1, "a", 1.0], [2, "b"]]), ["AllAssetsComputed"], "python")


def test_every_kind_of_source_in_one_airflow_dag(http_server, airflow_home, tmp_path) -> None:
    """Delimited files of their own dialect, renamed columns, Parquet and ORC files,
    a Hive-partitioned directory and inline rows, each a mapped Airflow task chain in
    its own process: the DAG loads and runs with dag.test(), and a rerun changes
    nothing."""
    serve(http_server.root)
    serve_columnar(http_server.root)
    (http_server.root / "renamed.csv").write_bytes(RENAMED)
    (http_server.root / "keys.jsonl").write_bytes(KEYS)
    directory = tmp_path / "rides"
    write_partitions(directory, PARTITIONS)
    base = http_server.base_url
    parts = [
        universe(base),
        renamed_universe(base),
        columnar_universe(base),
        hive_universe(directory),
        inline_universe([[1, "a", 0.5]]),
    ]
    datasets = [dataset for part in parts for dataset in part.datasets]
    code = dag(Universe(name="sources", datasets=datasets), ["AllAssetsComputed"], "airflow")
    work = tmp_path / "work"
    work.mkdir()
    report = airflow(airflow_home, code, "sources", work, "run")
    assert report["failed"] == [] and report["state"] == "success", report
    counts = {
        "s.trips": 5,
        "s.pipes": 3,
        "r.renamed": 2,
        "r.keys": 2,
        "c.pq": 2,
        "c.orc": 1,
        "h.rides": 4,
        "i.codes": 1,
    }
    assert {t: lake_query(work, f"SELECT count(*) FROM {t}")[0][0] for t in counts} == counts
    assert lake_query(work, "SELECT * FROM r.renamed ORDER BY id")[0] == (1, "a; b", 2.5)
    tables = sorted(work.rglob("lake/*/*/*.parquet"))
    before = [p.stat().st_mtime_ns for p in tables]
    report = airflow(airflow_home, code, "sources", work, "run")
    assert report["failed"] == [], report
    assert [p.stat().st_mtime_ns for p in tables] == before
