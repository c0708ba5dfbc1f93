"""A generated program never publishes wrong data, and recovers once the data is right.

Each test serves sources from a scripted loopback HTTP server, runs the generated
python program (and, where the behaviour is the runner's, the notebook), and looks at
the lake. Nothing is ever deleted by hand between runs: a fixed source must be enough.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aorist import (
    CSVEncoding,
    CSVHeader,
    DataSet,
    GzipCompression,
    HiveTableStorage,
    Int64,
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

from conftest import lake_objects, lake_query, lake_tables, output_of, run_generated

EDGES = [(1, 2), (3, 4), (5, 6), (7, 8)]
TSV = b"".join(b"%d\t%d\n" % edge for edge in EDGES)


# ------------------------------------------------------------------ scripted server


class Scripted(ThreadingHTTPServer):
    """Serves `routes[path](handler)`; a route writes whatever response it likes."""

    daemon_threads = True

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                else:
                    route(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def handle_error(self, request: object, client_address: object) -> None:
        pass

    def serve(self, path: str, body: bytes, length: bool = True, kind: str = "text/plain"):
        """Serve `body` with status 200; without `length`, no Content-Length header."""

        def route(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", kind)
            if length:
                handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = route


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------ universes

EDGE = RowStruct(name="edge", attributes=[NumericIdentifier("from_id"), Int64("to_id")])


def universe(base: str, sources: dict[str, object]) -> Universe:
    """Dataset `g`, one asset per source: {asset name: encoding}, served at /<asset>."""
    tables = [
        StaticDataTable(
            name=name,
            schema=default_tabular_schema(EDGE),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(location=WebLocation(address=f"{base}/{name}"), encoding=enc)
            ),
        )
        for name, enc in sources.items()
    ]
    dataset = DataSet(name="g", datum_templates=[EDGE], assets=tables).replicate_to_local(
        HiveTableStorage(location=MinioLocation(name="g"), encoding=ParquetEncoding()),
        "tmp/g",
        CSVEncoding(),
    )
    return Universe(name="trust", datasets=[dataset])


def rows(cwd: Path, table: str) -> list[tuple[object, ...]]:
    return lake_query(cwd, f"SELECT * FROM {table} ORDER BY ALL")


def staging_views(cwd: Path) -> list[str]:
    return [name for name in lake_objects(cwd) if name.startswith("_staging.")]


GZ = TSVEncoding(compression=GzipCompression())


def flipped(data: bytes) -> bytes:
    """data with one byte in the middle changed."""
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1 :]


BAD_SOURCES = {
    # A gzip body cut short, served with a Content-Length that matches what is sent.
    "truncated_gzip": (GZ, lambda s: s.serve("/bad", gzip.compress(TSV)[:-12]), "truncated"),
    # One byte of the deflate stream flipped: DuckDB would read other values; the CRC
    # tells.
    "corrupt_gzip": (GZ, lambda s: s.serve("/bad", flipped(gzip.compress(TSV * 50))), "corrupt"),
    # An error page served with status 200.
    "html_with_200": (
        TSVEncoding(),
        lambda s: s.serve("/bad", b"<!DOCTYPE html><html>Sign in</html>", kind="text/html"),
        "HTML page",
    ),
    # A connection closed early, with no Content-Length to tell.
    "short_body": (TSVEncoding(), lambda s: s.serve("/bad", TSV[:-3], length=False), "fields"),
}


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
@pytest.mark.parametrize("case", sorted(BAD_SOURCES))
def test_bad_source_fails_alone_and_a_fixed_source_is_enough(
    scripted, tmp_path, case, fuse
) -> None:
    encoding, serve_bad, cause = BAD_SOURCES[case]
    scripted.serve("/good", TSV)
    serve_bad(scripted)
    code = dag(
        universe(scripted.base, {"good": TSVEncoding(), "bad": encoding}),
        ["AllAssetsComputed"],
        fuse=fuse,
    )

    failed = run_generated(code, tmp_path, expect_ok=False)
    out = output_of(failed)
    assert "FAILED bad_" in out and cause in out, out
    assert "1 task(s) failed" in out
    # The independent asset is published; the bad one is not, and leaves no view behind.
    assert lake_tables(tmp_path) == {"g.good": len(EDGES)}
    assert staging_views(tmp_path) == []

    # The source is fixed upstream: the next run fetches it again and succeeds.
    scripted.serve("/bad", gzip.compress(TSV) if encoding is GZ else TSV)
    run_generated(code, tmp_path)
    assert rows(tmp_path, "g.bad") == rows(tmp_path, "g.good") == [tuple(e) for e in EDGES]
    assert not [p for p in tmp_path.rglob("*.part")]


@pytest.mark.parametrize(
    "body,message",
    [
        (
            b"1\t2\n3\t3.5\n",
            "g.bad: column \"to_id\", line 2: '3.5' is not a whole number (BIGINT)",
        ),
        (b"1\t2\n\t4\n", 'g.bad: column "from_id", line 2: empty value in a non-nullable column'),
        (b"1\t2\nx\t4\n", "g.bad: column \"from_id\", line 2: 'x' is not a whole number (BIGINT)"),
    ],
    ids=["fraction_in_integer", "null_in_non_nullable", "text_in_integer"],
)
@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_schema_is_enforced_while_loading(scripted, tmp_path, body, message, fuse) -> None:
    scripted.serve("/good", TSV)
    scripted.serve("/bad", body)
    code = dag(
        universe(scripted.base, {"good": TSVEncoding(), "bad": TSVEncoding()}),
        ["AllAssetsComputed"],
        fuse=fuse,
    )
    out = output_of(run_generated(code, tmp_path, expect_ok=False))
    # The fused step that reads the download fails with the same words, line included.
    step = "source_loaded" if fuse else "converted_to_target_encoding"
    assert f"FAILED bad_{step}: ValueError: {message}" in out, out
    assert lake_tables(tmp_path) == {"g.good": len(EDGES)}
    assert staging_views(tmp_path) == []
    # No file of the bad table was published either.
    assert not (tmp_path / "lake" / "g" / "bad").exists() or not list(
        (tmp_path / "lake" / "g" / "bad").glob("*.parquet")
    )


def test_a_header_line_of_data_is_reported_and_a_fixed_declaration_reruns(
    scripted, tmp_path
) -> None:
    scripted.serve("/edges", TSV)
    declared = TSVEncoding(header=CSVHeader(num_lines=1))
    proc = run_generated(
        dag(universe(scripted.base, {"edges": declared}), ["AllAssetsComputed"]), tmp_path
    )
    assert "read as data rows" in proc.stderr and "header=None" in proc.stderr
    assert len(rows(tmp_path, "g.edges")) == len(EDGES) - 1
    # Fixing the declaration is enough: the changed step and every step after it rerun.
    code = dag(universe(scripted.base, {"edges": TSVEncoding()}), ["AllAssetsComputed"])
    run_generated(code, tmp_path)
    assert rows(tmp_path, "g.edges") == [tuple(e) for e in EDGES]


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_undeclared_compression_is_named(scripted, tmp_path, fuse) -> None:
    scripted.serve("/edges", gzip.compress(TSV))
    code = dag(universe(scripted.base, {"edges": TSVEncoding()}), ["AllAssetsComputed"], fuse=fuse)
    out = output_of(run_generated(code, tmp_path, expect_ok=False))
    assert "is gzip-compressed" in out and "fix: declare compression=GzipCompression()" in out
    assert f"FAILED edges_{'source_loaded' if fuse else 'converted_to_csv'}" in out
    code = dag(universe(scripted.base, {"edges": GZ}), ["AllAssetsComputed"])
    run_generated(code, tmp_path)
    assert rows(tmp_path, "g.edges") == [tuple(e) for e in EDGES]


def test_rerun_after_success_changes_nothing(scripted, tmp_path) -> None:
    scripted.serve("/edges", gzip.compress(TSV))
    code = dag(universe(scripted.base, {"edges": GZ}), ["AllAssetsComputed"])
    run_generated(code, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    second = run_generated(code, tmp_path)
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    changed = {p for p in after if before.get(p) != after[p]} - {tmp_path / "main.py"}
    # lake.duckdb is opened (the state check) but its tables are not rewritten.
    assert {p.name for p in changed} <= {"lake.duckdb", "lake.duckdb.wal"}, changed
    assert "FAILED" not in output_of(second)
    assert rows(tmp_path, "g.edges") == [tuple(e) for e in EDGES]


# ---------------------------------------------------------------------- the lake lock


def test_two_runs_on_one_lake(scripted, tmp_path) -> None:
    """Started together, 20 times: the only failure is the lock's, the rows are right."""
    scripted.serve("/a", gzip.compress(TSV))
    scripted.serve("/b", TSV)
    code = dag(universe(scripted.base, {"a": GZ, "b": TSVEncoding()}), ["AllAssetsComputed"])
    locked = 0
    for round_ in range(20):
        cwd = tmp_path / f"round{round_}"
        cwd.mkdir()
        (cwd / "main.py").write_text(code, encoding="utf-8")
        procs = [
            subprocess.Popen(
                [sys.executable, "main.py"],
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
        for status, _out, err in results:
            if status != 0:
                assert f"the lake lake is in use by {os.getpid()}" not in err
                assert "is in use by" in err and "wait for that run to finish" in err, err
                assert "Traceback" not in err, err
                locked += 1
        assert any(status == 0 for status, _, _ in results), results
        assert lake_tables(cwd) == {"g.a": len(EDGES), "g.b": len(EDGES)}
        assert not list(cwd.rglob("*.part")) and not (cwd / "lake" / ".lock").exists()
    # The lock was contended at least once (else this test proved nothing).
    assert locked > 0


def test_a_dead_runs_lock_is_taken_over_and_a_live_one_is_not(scripted, tmp_path) -> None:
    scripted.serve("/edges", TSV)
    code = dag(universe(scripted.base, {"edges": TSVEncoding()}), ["AllAssetsComputed"])
    lock = tmp_path / "lake" / ".lock"
    lock.mkdir(parents=True)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (lock / "owner").write_text(f"{dead.stdout.strip()} {socket.gethostname()} then\n")
    proc = run_generated(code, tmp_path)
    assert "took over the lock of a run that died" in proc.stdout
    assert not lock.exists()

    lock.mkdir()
    (lock / "owner").write_text(f"{os.getpid()} {socket.gethostname()} now\n")
    proc = run_generated(code, tmp_path, expect_ok=False)
    assert f"is in use by {os.getpid()} {socket.gethostname()} now" in proc.stderr
    assert lock.exists()


def test_notebook_reports_failures_in_its_last_cell(scripted, tmp_path) -> None:
    import nbclient
    import nbformat

    scripted.serve("/good", TSV)
    scripted.serve("/bad", b"1\t2\n3\t3.5\n")
    text = dag(
        universe(scripted.base, {"good": TSVEncoding(), "bad": TSVEncoding()}),
        ["AllAssetsComputed"],
        "jupyter",
    )
    notebook = nbformat.reads(text, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    )
    with pytest.raises(nbclient.exceptions.CellExecutionError) as info:
        client.execute()
    assert "1 task(s) failed" in str(info.value)
    assert json.dumps(notebook.cells[-1].outputs).count("bad_source_loaded") >= 1
    assert lake_tables(tmp_path) == {"g.good": len(EDGES)}
    assert not (tmp_path / "lake" / ".lock").exists()


def test_an_engine_read_error_says_what_the_file_looks_like(scripted, tmp_path) -> None:
    scripted.serve("/edges", b"7,8\n1,2,3\n4,5,6\n")
    declared = universe(scripted.base, {"edges": CSVEncoding()})
    # Read in one pass, the download's line and field count are named.
    fused = output_of(
        run_generated(dag(declared, ["AllAssetsComputed"]), tmp_path / "fused", expect_ok=False)
    )
    assert (
        "FAILED edges_source_loaded: ValueError: tmp/g/g.edges.download:2: expected 2 "
        "comma-separated fields, found 3; fix: check the source's declared encoding"
    ) in fused, fused
    scripted.serve("/edges", b"1,2,3\n4,5,6\n")
    code = dag(declared, ["AllAssetsComputed"], fuse=False)
    out = output_of(run_generated(code, tmp_path, expect_ok=False))
    assert (
        "FAILED edges_converted_to_target_encoding: ValueError: could not read the staged "
        "file lake/_staging/g/edges.csv as header-less CSV with 2 columns (from_id, to_id): "
        "its first line is b'1,2,3\\n', 3 comma-separated field(s); fix: check the "
        "source's declared encoding"
    ) in out, out
    # The engine's own text follows, for whoever needs it.
    assert "Expected Number of Columns: 2 Found: 3" in out


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_a_csv_whose_lines_end_in_crlf_and_lf_is_never_published_empty(
    scripted, tmp_path, fuse
) -> None:
    # DuckDB reads no rows at all from some such files, and fails on others.
    lines = ["from,to"] + [f"{a},{b}" for a, b in EDGES]
    scripted.serve(
        "/bad", "".join(line + ("\r\n" if n % 2 else "\n") for n, line in enumerate(lines)).encode()
    )
    scripted.serve("/good", TSV)
    declared = universe(
        scripted.base,
        {"good": TSVEncoding(), "bad": CSVEncoding(header=CSVHeader(num_lines=1))},
    )
    out = output_of(
        run_generated(dag(declared, ["AllAssetsComputed"], fuse=fuse), tmp_path, expect_ok=False)
    )
    assert "FAILED bad_" in out
    if fuse:
        assert "tmp/g/g.bad.download" in out and "both CRLF and LF" in out, out
    assert lake_tables(tmp_path) == {"g.good": len(EDGES)}
