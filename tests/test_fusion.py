"""Fused recipes: one step that makes several constraints true must make the same tables.

Binding may choose a recipe that covers several constraints of an asset (reading the
downloaded file straight into the target file) over the separate steps, when it is
cheaper. `fuse=False` binds one recipe per constraint. Both programs run here on every
kind of fixture source and must publish the same tables: names, columns, types, rows.
A fused program is then killed inside each of its steps and rerun: it must finish with
exactly the right rows.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from aorist import (
    Boolean,
    BZip2Compression,
    CSVEncoding,
    CSVHeader,
    DataSet,
    Float64,
    FreeText,
    GzipCompression,
    HiveTableStorage,
    KeyInt64Identifier,
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
    dag,
    default_tabular_schema,
    stage,
)

from conftest import _minimal_env, lake_columns, lake_objects, lake_query, run_generated

COLUMNS = ["id", "name", "score", "flag", "note"]
CODECS = {
    "plain": (None, lambda data: data),
    "gzip": (GzipCompression, gzip.compress),
    "bz2": (BZip2Compression, bz2.compress),
    "zip": (ZipCompression, None),
}


def rows(n: int) -> list[tuple]:
    """Rows with text that needs quoting in CSV, empty nullable values and booleans."""
    out = []
    for i in range(n):
        name = f'name {i}, "quoted"' if i % 7 == 0 else f"name {i}"
        note = "" if i % 3 == 0 else f"note {i}"
        out.append((i, name, i * 0.5, i % 2 == 0, note))
    return out


def encode(data: list[tuple], kind: str, header: int) -> bytes:
    """`data` as CSV, TSV or JSON lines, under `header` header lines."""
    import csv
    import json

    lines = [f"# header line {n}" for n in range(header)]
    if kind == "jsonl":
        body = [
            json.dumps(
                {k: v for k, v in zip(COLUMNS, row, strict=True) if not (k == "note" and v == "")}
            )
            for row in data
        ]
        return ("\n".join(lines + body) + "\n").encode()
    if kind in ("tsv", "tsv_crlf"):
        body = ["\t".join(str(v).replace("\t", " ") for v in row) for row in data]
        if kind == "tsv_crlf":
            # Lines ending in CRLF and LF in one file (DuckDB reads one kind per file).
            return "".join(
                line + ("\r\n" if n % 2 else "\n") for n, line in enumerate(lines + body)
            ).encode()
        return ("\n".join(lines + body) + "\n").encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(data)
    return ("".join(line + "\n" for line in lines) + buffer.getvalue()).encode()


def compress(data: bytes, codec: str, inner: str) -> bytes:
    if codec == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(inner, data)
        return buffer.getvalue()
    return CODECS[codec][1](data)


def encoding(kind: str, codec: str, header: int):
    compression = CODECS[codec][0]
    options = {"compression": compression()} if compression else {}
    if kind == "jsonl":
        return NewlineDelimitedJSONEncoding(**options)
    if header:
        options["header"] = CSVHeader(num_lines=header)
    return (CSVEncoding if kind == "csv" else TSVEncoding)(**options)


SOURCES = [
    (kind, codec, header)
    for kind in ("csv", "tsv", "jsonl")
    for codec in CODECS
    for header in ((0,) if kind == "jsonl" else (0, 2))
] + [("tsv_crlf", "plain", 0), ("tsv_crlf", "gzip", 2)]


def fixture_universe(root: Path, base: str, n: int = 40) -> tuple[Universe, dict[str, list]]:
    """Every fixture source (CSV, TSV, JSON lines; plain, gzip, bz2, zip; with and without
    header lines) into a Parquet dataset, and some into an ORC one."""
    row = RowStruct(
        name="row",
        attributes=[
            KeyInt64Identifier("id"),
            FreeText("name"),
            Float64("score"),
            Boolean("flag"),
            FreeText("note", nullable=True),
        ],
    )
    expected: dict[str, list] = {}
    datasets = []
    for target, encoding_class in (("pq", ParquetEncoding), ("orc", ORCEncoding)):
        tables = []
        for number, (kind, codec, header) in enumerate(SOURCES):
            if target == "orc" and (codec in ("bz2", "zip") or kind == "jsonl"):
                continue
            name = f"{kind}_{codec}_{header}"
            data = rows(n + number)
            file = f"{target}_{name}.data"
            (root / file).write_bytes(compress(encode(data, kind, header), codec, f"{name}.txt"))
            tables.append(
                StaticDataTable(
                    name=name,
                    schema=default_tabular_schema(row),
                    setup=RemoteStorageSetup(
                        remote=RemoteStorage(
                            location=WebLocation(address=f"{base}/{file}"),
                            encoding=encoding(kind, codec, header),
                        )
                    ),
                )
            )
            expected[f"{target}.{name}"] = [
                (i, name_, score, flag, note or None) for i, name_, score, flag, note in data
            ]
        dataset = DataSet(name=target, datum_templates=[row], assets=tables)
        datasets.append(
            dataset.replicate_to_local(
                HiveTableStorage(location=MinioLocation(name=target), encoding=encoding_class()),
                f"tmp/{target}",
                CSVEncoding(),
            )
        )
    return Universe(name="fusion", datasets=datasets), expected


def snapshot(cwd: Path) -> dict[str, tuple]:
    """Per lake table: its columns with types, and its rows in id order."""
    out = {}
    for qualified in lake_objects(cwd):
        schema, name = qualified.split(".")
        out[qualified] = (
            lake_columns(cwd, qualified),
            lake_query(cwd, f'SELECT * FROM "{schema}"."{name}" ORDER BY id'),
        )
    return out


def test_the_fused_plan_makes_the_same_tables_as_the_unfused_one(http_server, tmp_path):
    universe, expected = fixture_universe(http_server.root, http_server.base_url)
    fused = dag(universe, ["AllAssetsComputed"], "python")
    unfused = dag(universe, ["AllAssetsComputed"], "python", fuse=False)
    # The fused plan reads what DuckDB reads directly (plain or gzip CSV/TSV) in one step.
    assert "load_source(" in fused and "load_source" not in unfused

    run_generated(fused, tmp_path / "fused")
    run_generated(unfused, tmp_path / "unfused")
    tables = snapshot(tmp_path / "fused")
    assert tables == snapshot(tmp_path / "unfused")
    assert sorted(tables) == sorted(expected)
    for qualified, wanted in expected.items():
        columns, found = tables[qualified]
        assert [c for c, _ in columns] == COLUMNS
        assert [c for _, c in columns] == ["BIGINT", "VARCHAR", "DOUBLE", "BOOLEAN", "VARCHAR"]
        assert found == wanted, qualified

    # One copy: a Parquet table is a view over its file, an ORC one a table in the lake.
    kinds = lake_objects(tmp_path / "fused")
    assert {kinds[name] for name in kinds if name.startswith("pq.")} == {"VIEW"}
    assert {kinds[name] for name in kinds if name.startswith("orc.")} == {"BASE TABLE"}

    # Only the downloads remain of the temporary files, in both plans (and the markers
    # of removed copies, `.removed`, for a dry run).
    for plan in ("fused", "unfused"):
        left = sorted(p.name for p in (tmp_path / plan / "tmp").rglob("*") if p.is_file())
        assert left and all(".download" in name or name.endswith(".removed") for name in left), (
            plan,
            left,
        )

    # A rerun changes nothing: no file is rewritten, no table republished.
    lake = tmp_path / "fused" / "lake"
    before = {p: p.stat().st_mtime_ns for p in lake.rglob("*") if p.is_file()}
    run_generated(fused, tmp_path / "fused")
    after = {p: p.stat().st_mtime_ns for p in lake.rglob("*") if p.is_file()}
    changed = [p for p in before if after.get(p) != before[p] and "lake.duckdb" not in p.name]
    assert not changed
    assert snapshot(tmp_path / "fused") == tables


def test_a_fused_step_says_which_constraints_it_makes_true(http_server):
    universe, _ = fixture_universe(http_server.root, http_server.base_url, n=2)
    import json

    bound = json.loads(stage(universe, ["AllAssetsComputed"], "bound"))
    fused = [s for s in bound["steps"] if s["recipe_id"] == "python/load_source.py"]
    assert fused
    for step in fused:
        assert step["constraint"] == "TemporaryTableDropped"
        assert "ConvertedToTargetEncoding" in step["covers"]
        assert "TablePublished" in step["covers"]
    code = dag(universe, ["AllAssetsComputed"], "python")
    assert "source_loaded: One call makes these true, in order." in code
    unfused = json.loads(stage(universe, ["AllAssetsComputed"], "bound", fuse=False))
    assert not any("covers" in s for s in unfused["steps"])
    assert len(unfused["steps"]) > len(bound["steps"])


KILL_STEPS = ["downloaded", "source_loaded", "asset_computed", "temporary_files_removed"]


@pytest.mark.parametrize("writing", [False, True], ids=["at_start", "while_writing"])
def test_a_kill_inside_any_step_then_a_rerun_gives_exactly_the_right_rows(
    http_server, tmp_path, writing
):
    """Killed right after each step starts (and, `while_writing`, once the load has
    begun writing the table's file), then rerun: the table holds exactly the source's
    rows."""
    n = 1_000_000
    data = "".join(f"{i}\t{i * 3}\n" for i in range(n))
    (http_server.root / "big.tsv.gz").write_bytes(
        gzip.compress(("# a\n# b\n" + data).encode(), compresslevel=1)
    )
    row = RowStruct(
        name="edge", attributes=[KeyInt64Identifier("from_id"), KeyInt64Identifier("to_id")]
    )
    table = StaticDataTable(
        name="big",
        schema=default_tabular_schema(row),
        setup=RemoteStorageSetup(
            remote=RemoteStorage(
                location=WebLocation(address=f"{http_server.base_url}/big.tsv.gz"),
                encoding=TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=2)),
            )
        ),
    )
    dataset = DataSet(name="k", datum_templates=[row], assets=[table]).replicate_to_local(
        HiveTableStorage(location=MinioLocation(name="k"), encoding=ParquetEncoding()),
        "tmp/k",
        CSVEncoding(),
    )
    code = dag(Universe(name="kill", datasets=[dataset]), ["AllAssetsComputed"], "python")
    (tmp_path / "main.py").write_text(code, encoding="utf-8")
    killed = []
    for step in KILL_STEPS:
        # Each run starts over from what the killed one left.
        proc = subprocess.Popen(
            [sys.executable, "main.py"],
            cwd=tmp_path,
            env=_minimal_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == f"running big_{step}":
                if writing and step == "source_loaded":
                    # The part file the load writes before renaming it into place.
                    deadline = time.monotonic() + 30
                    while not list((tmp_path / "lake").rglob("big.parquet.*.part")):
                        assert time.monotonic() < deadline, "the load wrote no part file"
                        time.sleep(0.005)
                os.killpg(proc.pid, signal.SIGKILL)
                break
        proc.wait(timeout=120)
        proc.stdout.close()
        if proc.returncode == -signal.SIGKILL:
            killed.append(step)
    assert killed == KILL_STEPS
    run_generated(code, tmp_path)
    assert lake_query(tmp_path, "SELECT count(*), sum(from_id), sum(to_id) FROM k.big") == [
        (n, n * (n - 1) // 2, 3 * n * (n - 1) // 2)
    ]
    assert lake_query(tmp_path, "SELECT count(DISTINCT from_id) FROM k.big") == [(n,)]
    assert not list(tmp_path.rglob("*.part"))
