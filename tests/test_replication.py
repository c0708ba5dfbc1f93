"""End to end: declare a universe, generate a Python script, run it, inspect the lake.

Each test serves fixture files from a local HTTP server and runs the generated script
with ``tmp_path`` as its working directory, so the lake is ``tmp_path/lake``.
"""

from __future__ import annotations

import ast
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import aorist
from aorist import (
    BZip2Compression,
    CSVEncoding,
    CSVHeader,
    DataSet,
    Float64,
    GzipCompression,
    HiveTableStorage,
    IdentifierTuple,
    Int64,
    MinioLocation,
    NumericIdentifier,
    ORCEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    StringIdentifier,
    TSVEncoding,
    Universe,
    WebLocation,
    ZipCompression,
    dag,
    default_tabular_schema,
)

from conftest import (
    CONSTRAINTS,
    TESTS_DIR,
    assert_no_aorist_import,
    lake_columns,
    lake_files,
    lake_objects,
    lake_query,
    lake_tables,
    output_of,
    run_generated,
)
from fixtures_data import (
    SNAP_NAMES,
    WINE_COLUMNS,
    WINE_FLOAT_COLUMNS,
    bz2ed,
    delimited,
    edge_sums,
    jsonl,
    jsonl_dataset,
    jsonl_rows,
    mixed_universe,
    sha256_file,
    snap_edge_counts,
    snap_key,
    snap_like_edges,
    snap_like_gz,
    snap_universe,
    wine_dataset,
    wine_like_csv,
    wine_like_rows,
    zipped,
)

EDGE_COLUMNS = [("from_id", "BIGINT"), ("to_id", "BIGINT")]
# Where no server listens: dag() only renders code, it never fetches.
OFFLINE_BASE = "http://127.0.0.1:9/data"


def generate(universe: Universe) -> str:
    code = dag(universe, CONSTRAINTS, "python")
    assert isinstance(code, str), f"dag() must return str, got {type(code).__name__}"
    return code


def magic_files(cwd: Path, magic: bytes) -> dict[str, bytes]:
    """Files under lake/ (database excluded) that start with ``magic``."""
    return {path: data for path, data in lake_files(cwd).items() if data.startswith(magic)}


def assert_no_staging(cwd: Path) -> None:
    leftovers = [name for name in lake_objects(cwd) if "staging" in name.lower()]
    assert not leftovers, f"staging objects left in the lake: {leftovers}"


def assert_files_per_asset(files: dict[str, bytes], assets: list[str], what: str) -> None:
    for asset in assets:
        assert any(asset in path for path in files), (
            f"no {what} file under lake/ for asset {asset!r}; {what} files: {sorted(files)}"
        )


def edge_dataset(
    base: str,
    file_name: str,
    *,
    dataset: str = "checked",
    asset: str = "edges",
    sha256: str | None = None,
) -> DataSet:
    """One gzipped SNAP-like edge list, optionally with a declared sha256, replicated to ORC."""
    edge = IdentifierTuple(
        name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
    )
    remote = RemoteStorage(
        location=WebLocation(address=f"{base}/{file_name}"),
        encoding=TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=4)),
        sha256=sha256,
    )
    table = StaticDataTable(
        name=asset, schema=default_tabular_schema(edge), setup=RemoteStorageSetup(remote=remote)
    )
    data = DataSet(
        name=dataset, description="checked download", datum_templates=[edge], assets=[table]
    )
    return data.replicate_to_local(
        HiveTableStorage(location=MinioLocation(name=dataset), encoding=ORCEncoding()),
        f"tmp/{dataset}",
        CSVEncoding(),
    )


# ----------------------------------------------------------------------- (1) SNAP


def test_snap_all_graphs_replicated_and_rerun_is_a_no_op(http_server, tmp_path):
    counts = snap_edge_counts()
    for name, n_edges in counts.items():
        snap_like_gz(http_server.root / f"{name}.txt.gz", n_edges)
    code = generate(snap_universe(http_server.base_url))

    first = run_generated(code, tmp_path)
    assert first.stdout.strip(), "the script should print a line per step"

    expected = {f"snap.{snap_key(name)}": n for name, n in counts.items()}
    assert lake_tables(tmp_path) == expected
    assert_no_staging(tmp_path)
    for name, n_edges in counts.items():
        qualified = f"snap.{snap_key(name)}"
        assert lake_columns(tmp_path, qualified) == EDGE_COLUMNS, qualified
        sums = lake_query(tmp_path, f"SELECT sum(from_id), sum(to_id) FROM {qualified}")[0]
        assert tuple(sums) == edge_sums(n_edges), f"{qualified}: rows differ from the source"
    requested = set(http_server.requests)
    assert {f"/{name}.txt.gz" for name in SNAP_NAMES} <= requested

    orc_before = magic_files(tmp_path, b"ORC")
    assert_files_per_asset(orc_before, [snap_key(name) for name in SNAP_NAMES], "ORC")

    http_server.clear_requests()
    run_generated(code, tmp_path)
    assert http_server.fetched == [], "a second run must not download anything again"
    assert lake_tables(tmp_path) == expected
    assert_no_staging(tmp_path)
    assert magic_files(tmp_path, b"ORC") == orc_before, (
        "a second run must leave the ORC files as they are"
    )


def _call_count(code: str) -> int:
    return sum(isinstance(node, ast.Call) for node in ast.walk(ast.parse(code)))


def test_snap_code_loops_over_assets_instead_of_copying_steps():
    code = generate(snap_universe(OFFLINE_BASE))
    for name in SNAP_NAMES:
        url = f"{OFFLINE_BASE}/{name}.txt.gz"
        assert code.count(url) == 1, (
            f"{url} should appear once (in the table of assets), found {code.count(url)}"
        )
    assert code.count("download(") < 12, "downloads should be one loop, not one call per asset"
    assert any(isinstance(node, (ast.For, ast.comprehension)) for node in ast.walk(ast.parse(code)))

    # Ten more assets add rows to a table of assets, not copies of every step.
    small = generate(snap_universe(OFFLINE_BASE, SNAP_NAMES[:2]))
    extra_calls = _call_count(code) - _call_count(small)
    assert extra_calls < 3 * 10, f"10 extra assets added {extra_calls} calls to the generated code"


# ----------------------------------------------------------------------- (2) wine CSV -> Parquet


def test_wine_csv_with_header_to_parquet(http_server, tmp_path):
    n_rows = wine_like_csv(http_server.root / "wine.csv", 150)
    universe = Universe(name="wine_universe", datasets=[wine_dataset(http_server.base_url)])
    run_generated(generate(universe), tmp_path)

    assert lake_tables(tmp_path) == {"wine.wine_table": n_rows}
    assert_no_staging(tmp_path)
    assert lake_columns(tmp_path, "wine.wine_table") == [
        (c, "DOUBLE") for c in WINE_FLOAT_COLUMNS
    ] + [("class", "BIGINT")]
    columns = ", ".join(f'"{c}"' for c in WINE_COLUMNS)
    rows = lake_query(tmp_path, f"SELECT {columns} FROM wine.wine_table")
    assert sorted(tuple(r) for r in rows) == sorted(wine_like_rows(n_rows))
    assert_files_per_asset(magic_files(tmp_path, b"PAR1"), ["wine_table"], "Parquet")


# ----------------------------------------------------------------------- (3) JSON lines


def test_json_lines_with_a_nullable_column(http_server, tmp_path):
    source = jsonl_rows(60)
    n_rows = jsonl(http_server.root / "events.jsonl", source)
    universe = Universe(name="json_universe", datasets=[jsonl_dataset(http_server.base_url)])
    run_generated(generate(universe), tmp_path)

    assert lake_tables(tmp_path) == {"logs.events": n_rows}
    assert_no_staging(tmp_path)
    assert lake_columns(tmp_path, "logs.events") == [
        ("id", "VARCHAR"),
        ("count", "BIGINT"),
        ("score", "DOUBLE"),
        ("flag", "BOOLEAN"),
        ("note", "VARCHAR"),
    ]
    rows = lake_query(
        tmp_path, 'SELECT id, "count", score, flag, note FROM logs.events ORDER BY id'
    )
    expected = sorted(
        ((r["id"], r["count"], r["score"], r["flag"], r.get("note")) for r in source),
        key=lambda r: r[0],
    )
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [(e[0], e[1], e[3], e[4]) for e in expected]
    assert [r[2] for r in rows] == pytest.approx([e[2] for e in expected], rel=1e-12)
    missing = sum("note" not in r for r in source)
    assert missing > 0
    assert (
        lake_query(tmp_path, "SELECT count(*) FROM logs.events WHERE note IS NULL")[0][0] == missing
    )
    assert_files_per_asset(magic_files(tmp_path, b"ORC"), ["events"], "ORC")


# ----------------------------------------------------------------------- (4) zip and bz2


def test_zip_and_bz2_sources(http_server, tmp_path):
    edges = snap_like_edges(45, seed=3)
    n_edges = zipped(http_server.root / "edges.tsv.zip", "edges.tsv", delimited(edges, "\t"))
    points = [(f"p-{i:03d}", i * 0.25, i * i) for i in range(30)]
    n_lines = bz2ed(
        http_server.root / "points.csv.bz2", delimited(points, ",", header=["label", "x", "n"])
    )
    assert (n_edges, n_lines) == (45, 31)

    edge = IdentifierTuple(
        name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
    )
    point = RowStruct(
        name="point", attributes=[StringIdentifier("label"), Float64("x"), Int64("n")]
    )
    base = http_server.base_url
    zip_table = StaticDataTable(
        name="zip_edges",
        schema=default_tabular_schema(edge),
        setup=RemoteStorageSetup(
            remote=RemoteStorage(
                location=WebLocation(address=f"{base}/edges.tsv.zip"),
                encoding=TSVEncoding(compression=ZipCompression()),
            )
        ),
    )
    bz_table = StaticDataTable(
        name="bz_points",
        schema=default_tabular_schema(point),
        setup=RemoteStorageSetup(
            remote=RemoteStorage(
                location=WebLocation(address=f"{base}/points.csv.bz2"),
                encoding=CSVEncoding(compression=BZip2Compression(), header=CSVHeader(num_lines=1)),
            )
        ),
    )
    archives = DataSet(name="archives", datum_templates=[edge, point], assets=[zip_table, bz_table])
    archives = archives.replicate_to_local(
        HiveTableStorage(location=MinioLocation(name="archives"), encoding=ORCEncoding()),
        "tmp/archives",
        CSVEncoding(),
    )
    run_generated(generate(Universe(name="archive_universe", datasets=[archives])), tmp_path)

    assert lake_tables(tmp_path) == {"archives.zip_edges": 45, "archives.bz_points": 30}
    assert_no_staging(tmp_path)
    assert lake_columns(tmp_path, "archives.zip_edges") == EDGE_COLUMNS
    assert lake_columns(tmp_path, "archives.bz_points") == [
        ("label", "VARCHAR"),
        ("x", "DOUBLE"),
        ("n", "BIGINT"),
    ]
    assert tuple(
        lake_query(tmp_path, "SELECT sum(from_id), sum(to_id) FROM archives.zip_edges")[0]
    ) == (
        sum(a for a, _ in edges),
        sum(b for _, b in edges),
    )
    assert [
        tuple(r)
        for r in lake_query(tmp_path, "SELECT label, x, n FROM archives.bz_points ORDER BY label")
    ] == points


# ----------------------------------------------------------------------- (5) sha256


@pytest.mark.parametrize("case", ["lower", "upper"])
def test_sha256_declared_correctly_runs(http_server, tmp_path, case):
    n_edges = snap_like_gz(http_server.root / "graph.txt.gz", 33)
    digest = sha256_file(http_server.root / "graph.txt.gz")
    digest = digest.upper() if case == "upper" else digest
    universe = Universe(
        name="checked_universe",
        datasets=[edge_dataset(http_server.base_url, "graph.txt.gz", sha256=digest)],
    )
    run_generated(generate(universe), tmp_path)
    assert lake_tables(tmp_path) == {"checked.edges": n_edges}


def test_sha256_mismatch_fails_and_publishes_nothing(http_server, tmp_path):
    snap_like_gz(http_server.root / "graph.txt.gz", 33)
    wrong = hashlib.sha256(b"not the file").hexdigest()
    assert wrong != sha256_file(http_server.root / "graph.txt.gz")
    universe = Universe(
        name="checked_universe",
        datasets=[edge_dataset(http_server.base_url, "graph.txt.gz", sha256=wrong)],
    )
    proc = run_generated(generate(universe), tmp_path, expect_ok=False)
    out = output_of(proc).lower()
    assert "sha256" in out and "mismatch" in out, (
        f"the failure should say sha256 mismatch:\n{output_of(proc)}"
    )
    tables = lake_tables(tmp_path)
    assert not [t for t in tables if t.startswith("checked.") or t.endswith(".edges")], tables


# ----------------------------------------------------------------------- (6) crash recovery


def test_rerun_after_a_failed_download_completes(http_server, tmp_path):
    names = ["ca-GrQc", "web-Google", "amazon0302"]
    counts = {name: 25 + 10 * i for i, name in enumerate(names)}
    for name, n_edges in counts.items():
        snap_like_gz(http_server.root / f"{name}.txt.gz", n_edges)
    code = generate(snap_universe(http_server.base_url, names))

    missing = http_server.root / "web-Google.txt.gz"
    saved = missing.read_bytes()
    missing.unlink()
    proc = run_generated(code, tmp_path, expect_ok=False)
    out = output_of(proc)
    assert "web-Google" in out or "web_google" in out, (
        f"the failure should name the asset or its URL:\n{out}"
    )
    assert "snap.web_google" not in lake_tables(tmp_path)

    missing.write_bytes(saved)
    run_generated(code, tmp_path)
    assert lake_tables(tmp_path) == {f"snap.{snap_key(name)}": n for name, n in counts.items()}
    assert_no_staging(tmp_path)
    for name, n_edges in counts.items():
        sums = lake_query(tmp_path, f"SELECT sum(from_id), sum(to_id) FROM snap.{snap_key(name)}")[
            0
        ]
        assert tuple(sums) == edge_sums(n_edges), name


# ----------------------------------------------------------------------- (7) determinism


def test_dag_is_deterministic_within_a_process():
    first = generate(mixed_universe(OFFLINE_BASE))
    second = generate(mixed_universe(OFFLINE_BASE))
    assert first == second
    assert generate(mixed_universe(OFFLINE_BASE)) == dag(
        mixed_universe(OFFLINE_BASE), CONSTRAINTS, "python"
    )


def _aorist_search_path() -> str:
    spec = aorist.__spec__
    assert spec is not None and spec.origin is not None, "cannot locate the aorist package"
    origin = Path(spec.origin).resolve()
    return str(
        origin.parent.parent if spec.submodule_search_locations is not None else origin.parent
    )


def _dag_in_subprocess(hash_seed: str, cwd: Path) -> str:
    program = (
        "import sys\n"
        "from fixtures_data import mixed_universe\n"
        "from aorist import dag\n"
        f"sys.stdout.write(dag(mixed_universe({OFFLINE_BASE!r}), {CONSTRAINTS!r}, 'python'))\n"
    )
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = hash_seed
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(TESTS_DIR), _aorist_search_path(), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    proc = subprocess.run(
        [sys.executable, "-c", program],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"PYTHONHASHSEED={hash_seed}: dag failed\n{proc.stderr[-4000:]}"
    return proc.stdout


def test_dag_does_not_depend_on_the_hash_seed(tmp_path):
    zero = _dag_in_subprocess("0", tmp_path)
    other = _dag_in_subprocess("123", tmp_path)
    assert zero == other
    assert zero == generate(mixed_universe(OFFLINE_BASE))


# ----------------------------------------------------------------------- (8) formatting


def _universes() -> dict[str, Universe]:
    return {
        "snap": snap_universe(OFFLINE_BASE),
        "wine": Universe(name="wine_universe", datasets=[wine_dataset(OFFLINE_BASE)]),
        "jsonl": Universe(name="json_universe", datasets=[jsonl_dataset(OFFLINE_BASE)]),
        "mixed": mixed_universe(OFFLINE_BASE),
    }


@pytest.mark.parametrize("which", ["snap", "wine", "jsonl", "mixed"])
def test_generated_code_is_black_formatted_and_compiles(which):
    black = pytest.importorskip("black")
    code = generate(_universes()[which])
    compile(code, "main.py", "exec")
    assert_no_aorist_import(code)
    assert black.format_str(code, mode=black.Mode()) == code, (
        "generated code is not black-formatted"
    )


def test_the_environment_variable_lake_path_moves_the_lake(http_server, tmp_path):
    counts = snap_edge_counts(SNAP_NAMES[:2])
    for name, n_edges in counts.items():
        snap_like_gz(http_server.root / f"{name}.txt.gz", n_edges)
    code = generate(snap_universe(http_server.base_url, SNAP_NAMES[:2]))
    run_generated(code, tmp_path, env={"LAKE_PATH": "moved/lake"})
    expected = {f"snap.{snap_key(name)}": n for name, n in counts.items()}
    assert lake_tables(tmp_path / "moved") == expected
    assert not (tmp_path / "lake").exists()
