"""Temporary files: once a table is published and verified, its decompressed,
header-less, CSV and staged copies are removed, in every dialect that runs on the
embedded lake; the download stays, as the cache a rerun rebuilds the copies from
without fetching the source again. AORIST_KEEP_TEMPORARY_FILES keeps every copy.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_derived import check_graph_lake, graph_universe, lake_state, serve_graphs
from test_r_dialect import NAMES as R_NAMES
from test_r_dialect import parquet_snap, rscript

from aorist import Universe, dag

from conftest import (
    airflow,
    lake_files,
    lake_query,
    lake_tables,
    output_of,
    run_generated,
)
from fixtures_data import snap_edge_counts, snap_key, snap_like_gz, snap_universe

KEEP = "AORIST_KEEP_TEMPORARY_FILES"
# The sources graph_universe(snap=True) downloads: edges as gzip TSV under four comment
# lines, measures as CSV with a header line.
DOWNLOADS = 2


def temporary_files(cwd: Path) -> list[str]:
    """Every file in the temporary directory (`tmp/` in these universes) and the lake's
    staging area, markers included, relative to `cwd`."""
    roots = [cwd / "tmp", cwd / "lake" / "_staging"]
    return sorted(
        path.relative_to(cwd).as_posix()
        for root in roots
        for path in root.rglob("*")
        if path.is_file()
    )


def downloads(cwd: Path) -> list[str]:
    return [f for f in temporary_files(cwd) if f.endswith((".download", ".download.done"))]


def copies(cwd: Path) -> list[str]:
    """The temporary files that are not a download, its marker or its validators (nor
    the marker of a removed copy, kept as `.removed` for `aorist status`)."""
    kept = (".download", ".download.done", ".download.source", ".removed")
    return [f for f in temporary_files(cwd) if not f.endswith(kept)]


def removed_by(output: str) -> set[str]:
    """The files the run's removal steps say they removed."""
    found: set[str] = set()
    for line in output.splitlines():
        if line.startswith("removed ") and not line.startswith("removed nothing"):
            found.update(line.removeprefix("removed ").split(", "))
    return found


def lake_contents(cwd: Path) -> tuple[dict[str, list], list]:
    """Every table's rows and the versions the lake records it was published from."""
    rows = {
        table: sorted(lake_query(cwd, f"SELECT * FROM {table}"), key=repr)
        for table in lake_tables(cwd)
    }
    return rows, lake_query(cwd, "SELECT * FROM _aorist.published ORDER BY 1, 2")


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_a_python_run_removes_every_copy_and_a_rerun_makes_none_of_them_again(
    http_server, tmp_path: Path, fuse: bool
) -> None:
    serve_graphs(http_server.root)
    code = dag(
        graph_universe(http_server.base_url, snap=True), ["AllAssetsComputed"], "python", fuse=fuse
    )
    first = run_generated(code, tmp_path)
    check_graph_lake(tmp_path)
    assert copies(tmp_path) == []
    assert len(downloads(tmp_path)) == 2 * DOWNLOADS
    # What went: each replicated table's decompressed, header-less and CSV copies, and
    # every table's staged file (CSV for a replicated table, Parquet for a derived one).
    # A fused plan reads each download once and makes no copy of a replicated table.
    removed = removed_by(output_of(first))
    suffixes = sorted(Path(f).suffix for f in removed)
    replicated = [] if fuse else [".csv"] * 3 + [".decompressed"] + [".noheader"] * 2
    assert suffixes == replicated + [".parquet"] * 5
    for file in removed:
        assert not (tmp_path / file).exists() and not (tmp_path / f"{file}.done").exists()
    files, contents, state = lake_files(tmp_path), lake_contents(tmp_path), lake_state(tmp_path)
    http_server.clear_requests()

    again = run_generated(code, tmp_path)
    # Nothing fetched, every published table current, and no copy made again: each
    # was removed after a run that made it from what it would be made from now (its
    # marker kept as X.removed), and no step that is not fresh reads it.
    assert http_server.fetched == []
    assert lake_files(tmp_path) == files
    assert lake_contents(tmp_path) == contents
    # No table file was written again (modification times) nor republished.
    assert lake_state(tmp_path) == state
    assert removed_by(output_of(again)) == set()
    assert "making " not in output_of(again)
    assert copies(tmp_path) == []


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_the_keep_variable_keeps_every_copy_until_it_is_unset_or_zero(
    http_server, tmp_path: Path, fuse: bool
) -> None:
    serve_graphs(http_server.root)
    code = dag(
        graph_universe(http_server.base_url, snap=True), ["AllAssetsComputed"], "python", fuse=fuse
    )
    kept = run_generated(code, tmp_path, env={KEEP: "1"})
    check_graph_lake(tmp_path)
    assert f"{KEEP} is set: keeping" in kept.stdout
    assert removed_by(output_of(kept)) == set()
    left = copies(tmp_path)
    # Each copy with its marker: 4 of replicated tables' temporary directory, 2 staged
    # CSV files (none of these in a fused plan) and 5 staged Parquet files of derived
    # tables.
    assert len(left) == 2 * ((0 if fuse else 4 + 2) + 5), left
    assert all(f + ".done" in left for f in left if not f.endswith(".done"))

    removing = run_generated(code, tmp_path, env={KEEP: "0"})
    assert removed_by(output_of(removing)) == {f for f in left if not f.endswith(".done")}
    assert copies(tmp_path) == []
    check_graph_lake(tmp_path)


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_an_r_script_removes_every_copy(http_server, tmp_path: Path, fuse: bool) -> None:
    names = R_NAMES
    counts = snap_edge_counts(names)
    for name in names:
        snap_like_gz(http_server.root / f"{name}.txt.gz", counts[name], seed=len(name))
    universe = Universe(name="my_cluster", datasets=[parquet_snap(http_server.base_url)])
    code = dag(universe, ["AllAssetsComputed"], "r", fuse=fuse)
    script = tmp_path / "main.R"
    script.write_text(code)

    def run(keep: str) -> str:
        result = subprocess.run(
            [rscript(), "--vanilla", str(script)],
            cwd=tmp_path,
            env={**os.environ, KEEP: keep},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout

    kept = run("yes")
    assert lake_tables(tmp_path) == {f"snap.{snap_key(n)}": c for n, c in counts.items()}
    left = copies(tmp_path)
    # decompressed, noheader and csv copies and the staged CSV file, each with a marker;
    # a fused script reads each download into its table and makes none.
    assert len(left) == len(names) * 2 * (0 if fuse else 4), left
    assert f"{KEEP} is set: keeping" in kept

    removing = run("")
    assert removed_by(removing) == {f for f in left if not f.endswith(".done")}
    assert copies(tmp_path) == []
    assert len(downloads(tmp_path)) == 2 * len(names)
    files, fetched = lake_files(tmp_path), len(http_server.fetched)
    assert removed_by(run("")) == removed_by(removing)
    assert lake_files(tmp_path) == files and len(http_server.fetched) == fetched


def test_an_airflow_run_removes_every_copy(airflow_home: Path, http_server, tmp_path: Path) -> None:
    names = ["ca-GrQc", "amazon0302"]
    counts = snap_edge_counts(names)
    for name in names:
        snap_like_gz(http_server.root / f"{name}.txt.gz", counts[name], seed=len(name))
    code = dag(snap_universe(http_server.base_url, names), ["AllAssetsComputed"], "airflow")
    report = airflow(airflow_home, code, "my_cluster", tmp_path, "run")
    assert report["state"] == "success", report["failed"]
    assert lake_tables(tmp_path) == {f"snap.{snap_key(n)}": c for n, c in counts.items()}
    assert copies(tmp_path) == []
    assert [f for f in downloads(tmp_path) if f.endswith(".download")] == sorted(
        f"tmp/snap/snap.{snap_key(n)}.download" for n in names
    )


# ------------------------------------------------------------------ the recipes themselves

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def python_recipe():
    """The Python recipe's function, defined as a program defines it."""
    namespace: dict = {"__name__": "remove_temporary_files_recipe"}
    # Its helper first, as the program defines it.
    for path in (
        RECIPES / "runtime" / "python" / "markers.py",
        RECIPES / "runtime" / "python" / "temporaries.py",
        RECIPES / "python" / "remove_temporary_files.py",
    ):
        code = path.read_text(encoding="utf-8")
        exec(compile(code, path.name, "exec"), namespace)  # noqa: S102
    return namespace["remove_temporary_files"]


def r_recipe(cwd: Path, keep: str, files: list[str]) -> str:
    """Run the R recipe in `cwd` with the lake `lake`; its output."""
    listed = ", ".join(f'"{f}"' for f in files)
    code = (
        f'source("{RECIPES / "r" / "remove_temporary_files.R"}"); '
        f'remove_temporary_files("lake", list({listed}), "_staging/d/t.csv")'
    )
    result = subprocess.run(
        [rscript(), "--vanilla", "-e", code],
        cwd=cwd,
        env={**os.environ, KEEP: keep},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def scratch(cwd: Path) -> list[str]:
    """A download, two temporary copies and a staged file, each with its marker."""
    made = ["tmp/t.download", "tmp/t.decompressed", "tmp/t.csv", "lake/_staging/d/t.csv"]
    for file in made:
        for path in (cwd / file, cwd / f"{file}.done"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
    return made


def left(cwd: Path) -> list[str]:
    """The files under `cwd` but the markers kept of removed copies (`.removed`)."""
    return sorted(
        p.relative_to(cwd).as_posix()
        for p in cwd.rglob("*")
        if p.is_file() and p.suffix != ".removed"
    )


def test_the_python_recipe_removes_files_and_markers_and_may_run_again(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    remove = python_recipe()
    made = scratch(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = left(tmp_path)
    for keep in ("1", "yes"):
        monkeypatch.setenv(KEEP, keep)
        remove("lake", ["tmp/t.decompressed", "tmp/t.csv"], "_staging/d/t.csv")
        assert left(tmp_path) == before
        assert f"{KEEP} is set: keeping" in capsys.readouterr().out
    monkeypatch.setenv(KEEP, "0")
    # A file missing already (its marker left behind) is fine.
    (tmp_path / "tmp/t.csv").unlink()
    remove("lake", ["tmp/t.decompressed", "tmp/t.csv"], "_staging/d/t.csv")
    assert left(tmp_path) == [made[0], f"{made[0]}.done"]
    assert capsys.readouterr().out == ("removed tmp/t.decompressed, lake/_staging/d/t.csv\n")
    monkeypatch.delenv(KEEP)
    remove("lake", ["tmp/t.decompressed", "tmp/t.csv"], "_staging/d/t.csv")
    assert capsys.readouterr().out == "removed nothing (already removed)\n"
    assert left(tmp_path) == [made[0], f"{made[0]}.done"]


def test_the_r_recipe_removes_files_and_markers_and_may_run_again(tmp_path: Path) -> None:
    made = scratch(tmp_path)
    before = left(tmp_path)
    files = ["tmp/t.decompressed", "tmp/t.csv"]
    assert f"{KEEP} is set: keeping" in r_recipe(tmp_path, "TRUE", files)
    assert left(tmp_path) == before
    (tmp_path / "tmp/t.csv").unlink()
    output = r_recipe(tmp_path, "0", files)
    assert output == "removed tmp/t.decompressed, lake/_staging/d/t.csv\n"
    assert left(tmp_path) == [made[0], f"{made[0]}.done"]
    assert r_recipe(tmp_path, "", files) == "removed nothing (already removed)\n"
    # The list of a derived table is empty: only its staged file goes.
    scratch(tmp_path)
    assert r_recipe(tmp_path, "", []) == "removed lake/_staging/d/t.csv\n"
