"""The r dialect: scripts Rscript runs against the embedded lake, clean under lintr."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_trust import universe as trust_universe

from aorist import (
    CSVEncoding,
    CSVHeader,
    DataSet,
    GzipCompression,
    HiveTableStorage,
    MinioLocation,
    NoRecipeError,
    ORCEncoding,
    ParquetEncoding,
    PlanningError,
    ReplicationStorageSetup,
    StaticDataTable,
    TSVEncoding,
    Universe,
    dag,
    stage,
)
from aorist.dialects.r import RDialect

from conftest import lake_columns, lake_files, lake_query, lake_tables
from fixtures_data import (
    jsonl_dataset,
    snap_dataset,
    snap_edge_counts,
    snap_key,
    snap_like_gz,
    wine_dataset,
    wine_like_csv,
)

NAMES = ["ca-GrQc", "web-Google", "amazon0302"]
PARQUET = HiveTableStorage(location=MinioLocation(name="snap"), encoding=ParquetEncoding())


def rscript() -> str:
    path = shutil.which("Rscript")
    assert path, "Rscript is not installed: run scripts/install-r.sh (make install-tools)"
    assert shutil.which("duckdb"), "the duckdb CLI is missing: run scripts/install-r.sh"
    return path


def parquet_snap(base: str):
    """The SNAP example with Parquet tables (R has no ORC writer; see the last test)."""
    orc = snap_dataset(base, NAMES)
    assets = []
    for asset in orc.assets:
        setup = ReplicationStorageSetup(
            source=asset.setup.source,
            targets=[PARQUET],
            tmp_dir=asset.setup.tmp_dir,
            tmp_encoding=asset.setup.tmp_encoding,
        )
        assets.append(StaticDataTable(name=asset.name, schema=asset.schema, setup=setup))
    return DataSet(name=orc.name, datum_templates=orc.datum_templates, assets=assets)


def run_r(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = cwd / "main.R"
    script.write_text(code)
    result = subprocess.run(
        [rscript(), "--vanilla", str(script)], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def lint(code: str, tmp_path: Path) -> str:
    script = tmp_path / "lint_me.R"
    script.write_text(code)
    result = subprocess.run(
        [rscript(), "-e", f"print(lintr::lint({str(script)!r}))"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_snap_like_graphs_replicate_and_rerun_changes_nothing(http_server, tmp_path: Path) -> None:
    counts = snap_edge_counts(NAMES)
    for name in NAMES:
        snap_like_gz(http_server.root / f"{name}.txt.gz", counts[name], seed=len(name))
    universe = Universe(name="my_cluster", datasets=[parquet_snap(http_server.base_url)])
    code = dag(universe, ["AllAssetsComputed"], "r")
    assert code == dag(universe, ["AllAssetsComputed"], "r")
    assert code.count("download(") < len(NAMES)
    run_r(code, tmp_path)
    expected = {f"snap.{snap_key(n)}": c for n, c in counts.items()}
    assert lake_tables(tmp_path) == expected
    assert [c for c, _ in lake_columns(tmp_path, "snap.ca_grqc")] == ["from_id", "to_id"]
    files, fetched = lake_files(tmp_path), len(http_server.fetched)
    run_r(code, tmp_path)
    assert lake_tables(tmp_path) == expected
    assert lake_files(tmp_path) == files
    assert len(http_server.fetched) == fetched


def test_csv_with_header_to_parquet(http_server, tmp_path: Path) -> None:
    rows = wine_like_csv(http_server.root / "wine.csv", 30)
    universe = Universe(name="wine_lab", datasets=[wine_dataset(http_server.base_url)])
    run_r(dag(universe, ["AllAssetsComputed"], "r"), tmp_path)
    assert list(lake_tables(tmp_path).values()) == [rows]


def test_generated_script_passes_lintr(http_server, tmp_path: Path) -> None:
    universe = Universe(
        name="lab",
        datasets=[parquet_snap(http_server.base_url), wine_dataset(http_server.base_url)],
    )
    assert lint(dag(universe, ["AllAssetsComputed"], "r"), tmp_path) == ""


def test_hostile_strings_are_escaped(tmp_path: Path) -> None:
    hostile = "http://127.0.0.1:9/a\"b\\c\n$(rm -rf x)`{0}`'; DROP TABLE x; --" + "é" * 90
    universe = Universe(name="lab", datasets=[parquet_snap(hostile.replace("\n", "%0A"))])
    code = dag(universe, ["AllAssetsComputed"], "r")
    script = tmp_path / "hostile.R"
    script.write_text(code)
    parsed = subprocess.run(
        [rscript(), "-e", f"invisible(parse(file = {str(script)!r}))"],
        capture_output=True,
        text=True,
    )
    assert parsed.returncode == 0, parsed.stderr
    assert lint(code, tmp_path) == ""


def test_a_long_table_with_upstream_names_runs_from_the_data_section(
    http_server, tmp_path: Path
) -> None:
    """51 assets, half of them compressed: converting each reads a file made by another
    step, so that step's table names each task's upstream task and is long enough for
    the data section. R allows 128 open connections: the run also proves no step leaks
    one."""
    names = [f"t{i}" for i in range(51)]
    sources = {}
    for index, name in enumerate(names):
        compressed = index % 2 == 1
        body = b"1\t2\n3\t4\n"
        (http_server.root / name).write_bytes(gzip.compress(body) if compressed else body)
        sources[name] = TSVEncoding(compression=GzipCompression()) if compressed else TSVEncoding()
    declared = trust_universe(http_server.base_url, sources)
    code = dag(declared, ["AllAssetsComputed"], "r", fuse=False)
    data = code[code.index("# Data: ") :]
    assert "converted_to_csv_tasks <- list(" in data
    assert 'list(c("t1_decompressed"), "t1", "tmp/g/g.t1.decompressed")' in data
    assert "for (row in converted_to_csv_tasks) {" in code
    (tmp_path / "separate").mkdir()
    run_r(code, tmp_path / "separate")
    assert lake_tables(tmp_path / "separate") == {f"g.{name}": 2 for name in names}
    # Fused: one step reads each download, plain or gzip, into its table.
    fused = dag(declared, ["AllAssetsComputed"], "r")
    assert "- source_loaded (26 tasks)" in fused and "- source_loaded_2 (25 tasks)" in fused
    assert "converted_to_csv" not in fused
    (tmp_path / "fused").mkdir()
    run_r(fused, tmp_path / "fused")
    assert lake_tables(tmp_path / "fused") == {f"g.{name}": 2 for name in names}


def test_a_recipe_parameter_named_like_the_runners_arguments_is_refused(http_server) -> None:
    """`run_step(run, task, upstream, fun, ...)` would take `up = ...` as its `upstream`."""
    universe = Universe(name="lab", datasets=[parquet_snap(http_server.base_url)])
    module = json.loads(stage(universe, ["AllAssetsComputed"], "ast", "r"))
    assert RDialect().render(module) == dag(universe, ["AllAssetsComputed"], "r")
    step = next(s for s in module["steps"] if s["name"] == "downloaded")
    calls = [n for n in walk(step["body"]) if n.get("node") == "Call" and n["kwargs"]]
    calls[0]["kwargs"][0]["name"] = "up"
    with pytest.raises(PlanningError, match="parameter 'up' would be taken for an argument"):
        RDialect().render(module)


def walk(nodes: list) -> list[dict]:
    """Every dict in an AST fragment, depth first."""
    out: list[dict] = []
    for node in nodes:
        if isinstance(node, dict):
            out.append(node)
            out += walk(list(node.values()))
        elif isinstance(node, list):
            out += walk(node)
    return out


def test_what_r_cannot_run_is_a_typed_error(http_server) -> None:
    orc = snap_dataset(http_server.base_url, NAMES).replicate_to_local(
        HiveTableStorage(location=MinioLocation(name="snap"), encoding=ORCEncoding()),
        "tmp/snap",
        CSVEncoding(),
    )
    # Python recipes run from R by default (run_python.R); without Python, none can.
    with pytest.raises(NoRecipeError, match="ConvertedToTargetEncoding.*python"):
        dag(
            Universe(name="lab", datasets=[orc]),
            ["AllAssetsComputed"],
            "r",
            preferences=["r", "sql", "bash"],
        )
    with pytest.raises(NoRecipeError, match="ConvertedToCSV"):
        dag(
            Universe(name="lab", datasets=[jsonl_dataset(http_server.base_url)]),
            ["AllAssetsComputed"],
            "r",
            preferences=["r", "sql", "bash"],
        )


def test_the_environment_variable_lake_path_moves_the_lake(http_server, tmp_path: Path) -> None:
    counts = snap_edge_counts(NAMES)
    for name in NAMES:
        snap_like_gz(http_server.root / f"{name}.txt.gz", counts[name], seed=len(name))
    universe = Universe(name="my_cluster", datasets=[parquet_snap(http_server.base_url)])
    script = tmp_path / "main.R"
    script.write_text(dag(universe, ["AllAssetsComputed"], "r"))
    result = subprocess.run(
        [rscript(), "--vanilla", str(script)], cwd=tmp_path, capture_output=True, text=True,
        timeout=300, env={**os.environ, "LAKE_PATH": "moved/lake"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert lake_tables(tmp_path / "moved") == {f"snap.{snap_key(n)}": c for n, c in counts.items()}
    assert not (tmp_path / "lake").exists()


def test_split_r_scripts_read_the_tables_of_other_datasets(http_server, tmp_path: Path) -> None:
    """The summary's R script checks the tables it reads: alone it fails naming them;
    after the scripts of the datasets it reads, it computes its table from them."""
    from test_layout import SUMMARY_LAKE, graphs, serve, with_summary

    from aorist import dag_files

    serve(http_server.root, 6)
    universe = with_summary(graphs(http_server.base_url, 6))
    files = dag_files(universe, ["AllAssetsComputed"], "r", split="dataset")
    for file, code in files.items():
        (tmp_path / file).write_text(code)

    def run(file: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [rscript(), "--vanilla", file], cwd=tmp_path, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip

    alone = run("graphs_summary.R")
    assert alone.returncode != 0
    assert "g0_0_asset_available: no lake database" in alone.stdout + alone.stderr
    for file in ("graphs_graphs0.R", "graphs_graphs1.R", "graphs_summary.R"):
        result = run(file)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert lake_tables(tmp_path) == SUMMARY_LAKE


def test_lines_ending_in_both_crlf_and_lf_load_fused_as_separately(
    http_server, tmp_path: Path
) -> None:
    """DuckDB fails on some such files and reads no rows from others: the fused step
    rewrites the line endings first, and publishes what the separate steps publish."""
    lines = ["# one", "# two"] + [f"{i}\t{i + 1}" for i in range(40)]
    body = "".join(line + ("\r\n" if n % 2 else "\n") for n, line in enumerate(lines))
    (http_server.root / "plain").write_bytes(body[len("# one\n# two\r\n") :].encode())
    (http_server.root / "gz").write_bytes(gzip.compress(body.encode()))
    sources = {
        "plain": TSVEncoding(),
        "gz": TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=2)),
    }
    declared = trust_universe(http_server.base_url, sources)
    expected = [(i, i + 1) for i in range(40)]
    for fuse in (True, False):
        cwd = tmp_path / str(fuse)
        cwd.mkdir()
        proc = run_r(dag(declared, ["AllAssetsComputed"], "r", fuse=fuse), cwd)
        assert ("rewriting them with LF first" in proc.stderr) == fuse
        for name in sources:
            assert lake_query(cwd, f"SELECT * FROM g.{name} ORDER BY 1") == expected, name
