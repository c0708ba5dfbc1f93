"""Every name a plan derives belongs to one asset.

Two assets that derive one name (a staging view, a lake directory, a table, a temporary
file), also when the names differ only in case, would overwrite each other's rows while
the generated program exits 0. Names that only used to meet are now apart by
construction, and the programs are run to show each table holds its own rows; names that
still meet are refused at planning time, naming both assets.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from aorist import (
    CSVEncoding,
    CSVHeader,
    DataSet,
    DeclarationError,
    DuplicateNameError,
    HiveTableStorage,
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
    stage,
)

from conftest import CONSTRAINTS, lake_objects, lake_query, run_generated

EDGE = RowStruct(name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")])
OFFLINE = "http://127.0.0.1:9/data"


def dataset(name: str, asset: str, location: str, base: str = OFFLINE) -> DataSet:
    """One dataset with one TSV table (one header line) replicated to Parquet at `location`."""
    remote = RemoteStorage(
        location=WebLocation(address=f"{base}/{name}/{asset}.tsv"),
        encoding=TSVEncoding(header=CSVHeader(num_lines=1)),
    )
    table = StaticDataTable(
        name=asset, schema=default_tabular_schema(EDGE), setup=RemoteStorageSetup(remote=remote)
    )
    data = DataSet(name=name, datum_templates=[EDGE], assets=[table])
    lake = HiveTableStorage(location=MinioLocation(name=location), encoding=ParquetEncoding())
    return data.replicate_to_local(lake, f"tmp/{name}", CSVEncoding())


def serve(root: Path, name: str, asset: str, rows: list[tuple[int, int]]) -> None:
    path = root / name / f"{asset}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("from_id\tto_id\n" + "".join(f"{a}\t{b}\n" for a, b in rows))


def path(dataset_name: str, asset: str) -> str:
    return f"universe 'lab' / dataset '{dataset_name}' / asset '{asset}'"


# Each table's rows differ from the other's in count and values.
ROWS = {0: [(1, 2), (3, 4), (5, 6)], 1: [(10, 20), (30, 40), (50, 60), (70, 80), (90, 100)]}


def table_rows(cwd: Path, schema: str, table: str) -> list[tuple[object, ...]]:
    return lake_query(cwd, f'SELECT from_id, to_id FROM "{schema}"."{table}" ORDER BY from_id')


# ------------------------------------------------------------- apart by construction

# (dataset, asset, location) pairs whose names used to meet, or meet ignoring case only
# where nothing folds them together.
APART = {
    # The staging view was `_staging.<dataset>__<asset>`: both were `_staging.a__b__c`.
    "joined_names": [("a", "b__c", "a"), ("a__b", "c", "a__b")],
    # Tables `x.Edges` and `y.edges` live in different schemas and directories; their
    # task names must still differ by more than case.
    "case_only": [("x", "Edges", "x"), ("y", "edges", "y")],
}


@pytest.mark.parametrize("case", sorted(APART))
def test_names_that_used_to_meet_hold_their_own_rows(case, http_server, tmp_path):
    pairs = APART[case]
    for index, (name, asset, _) in enumerate(pairs):
        serve(http_server.root, name, asset, ROWS[index])
    universe = Universe(
        name="lab", datasets=[dataset(n, a, loc, http_server.base_url) for n, a, loc in pairs]
    )
    run_generated(dag(universe, CONSTRAINTS, "python"), tmp_path)
    for index, (name, asset, _) in enumerate(pairs):
        assert table_rows(tmp_path, name, asset) == ROWS[index], f"{name}.{asset}"
    leftovers = [name for name in lake_objects(tmp_path) if name.startswith("_staging.")]
    assert leftovers == [], leftovers


def task_names(universe: Universe) -> list[str]:
    plan = json.loads(stage(universe, CONSTRAINTS, "compressed"))
    return [task for group in plan["groups"] for task in group["tasks"]]


@pytest.mark.parametrize("case", sorted(APART))
def test_task_names_differ_in_more_than_case(case):
    universe = Universe(name="lab", datasets=[dataset(*spec) for spec in APART[case]])
    names = task_names(universe)
    folded = {name.lower() for name in names}
    assert len(folded) == len(names), sorted(names)


def test_staging_views_are_quoted_names_holding_a_dot():
    universe = Universe(name="lab", datasets=[dataset(*spec) for spec in APART["joined_names"]])
    # The separate steps create the staging views (a fused step reads the file itself).
    bound = json.loads(stage(universe, CONSTRAINTS, "bound", fuse=False))
    views = {
        tuple(value["value"])
        for step in bound["steps"]
        for name, value in step["args"]
        if step["constraint"] == "TemporaryTableCreated" and name == "table"
    }
    assert views == {("_staging", "a.b__c"), ("_staging", "a__b.c")}


def rscript() -> str:
    found = shutil.which("Rscript")
    assert found, "Rscript is not installed: run scripts/install-r.sh (make install-tools)"
    assert shutil.which("duckdb"), "the duckdb CLI is missing: run scripts/install-r.sh"
    return found


def test_r_quotes_a_staging_view_holding_a_dot(http_server, tmp_path):
    # R runs its SQL through the DuckDB shell, quoting each name part on its own.
    pairs = APART["joined_names"]
    for index, (name, asset, _) in enumerate(pairs):
        serve(http_server.root, name, asset, ROWS[index])
    universe = Universe(
        name="lab", datasets=[dataset(n, a, loc, http_server.base_url) for n, a, loc in pairs]
    )
    script = tmp_path / "main.R"
    script.write_text(dag(universe, CONSTRAINTS, "r"))
    result = subprocess.run(
        [rscript(), "--vanilla", str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for index, (name, asset, _) in enumerate(pairs):
        assert table_rows(tmp_path, name, asset) == ROWS[index], f"{name}.{asset}"


# ------------------------------------------------------------- refused at planning time


def refused(*specs: tuple[str, str, str]) -> DuplicateNameError:
    universe = Universe(name="lab", datasets=[dataset(*spec) for spec in specs])
    with pytest.raises(DuplicateNameError) as raised:
        dag(universe, CONSTRAINTS, "python")
    assert isinstance(raised.value, DeclarationError)
    return raised.value


def test_a_shared_location_and_asset_name_is_refused_naming_both_assets():
    error = str(refused(("a", "e", "graphs"), ("b", "e", "graphs")))
    assert error.startswith(f"{path('b', 'e')}: its lake directory 'graphs/e' is also "), error
    assert f"the lake directory of {path('a', 'e')}" in error, error
    assert "fix: give the datasets distinct MinioLocation names" in error, error


def test_a_location_and_asset_name_apart_only_by_case_are_refused():
    error = str(refused(("a", "edges", "graphs"), ("b", "EDGES", "Graphs")))
    assert error.startswith(f"{path('b', 'EDGES')}: its lake directory 'Graphs/EDGES'"), error
    assert f"of {path('a', 'edges')} (written 'graphs/edges' there" in error, error
    assert "differ only in case" in error, error


def test_a_location_over_a_datasets_staging_files_is_refused():
    error = str(refused(("d", "x", "one"), ("e", "d", "_staging")))
    assert error.startswith(f"{path('e', 'd')}: its lake directory '_staging/d' is also "), error
    assert "the staging directory of universe 'lab' / dataset 'd'" in error, error
    assert "fix: name no lake directory '_staging'" in error, error


def test_a_dataset_without_a_target_shares_its_name_as_a_lake_directory():
    # An asset with no lake target lives in the directory named after its dataset; a
    # MinioLocation of that name holding an asset of the same name is the same directory.
    remote = RemoteStorage(location=WebLocation(address=f"{OFFLINE}/e.tsv"), encoding=TSVEncoding())
    table = StaticDataTable(
        name="e", schema=default_tabular_schema(EDGE), setup=RemoteStorageSetup(remote=remote)
    )
    plain = DataSet(name="graphs", datum_templates=[EDGE], assets=[table])
    universe = Universe(name="lab", datasets=[plain, dataset("other", "e", "graphs")])
    with pytest.raises(DuplicateNameError) as raised:
        dag(universe, CONSTRAINTS, "python")
    assert str(raised.value).startswith(f"{path('other', 'e')}: its lake directory 'graphs/e'")
    assert f"the lake directory of {path('graphs', 'e')}" in str(raised.value)
