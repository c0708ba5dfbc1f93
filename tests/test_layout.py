"""How a large universe's program is laid out, and run.

- Tables longer than ``DATA_ROWS`` rows move to a data section after the code that loops
  over them (python, airflow, jupyter, r): the code reads first at any size, and its
  length does not grow with the universe.
- ``dag_files(..., split="dataset")`` writes one program (one Airflow DAG file) per
  dataset, each loadable and runnable on its own. A dataset computed from another's
  tables reads them: its program checks them instead of computing them, and its DAG is
  scheduled on the asset events the other DAG emits for them.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import black
import nbformat
import pytest
from nbclient import NotebookClient

from aorist import (
    ComputedFromLocalData,
    CSVEncoding,
    CSVHeader,
    DataSet,
    DeclarationError,
    GzipCompression,
    HiveTableStorage,
    IdentifierTuple,
    MinioLocation,
    NumericIdentifier,
    ParquetEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    StaticDataTable,
    TSVEncoding,
    UndefinedTabularSchema,
    Universe,
    WebLocation,
    dag,
    dag_files,
    default_tabular_schema,
)
from aorist.cli import main as cli
from aorist.dialects._base import DATA_BANNER, DATA_ROWS

from conftest import (
    AIRFLOW_RUNNER,
    airflow,
    airflow_env,
    expected_graph,
    lake_query,
    lake_tables,
    run_generated,
)

DATASETS = 3
# Over the threshold, so that the shared table and the download table both move.
ASSETS = DATA_ROWS + 4


def graphs(base_url: str, n: int, datasets: int = DATASETS) -> Universe:
    """`n` edge lists (gzip TSV, one header line) spread over `datasets` datasets."""
    edge = IdentifierTuple(
        name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
    )
    encoding = TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=1))
    sets = []
    for d in range(datasets):
        tables = [
            StaticDataTable(
                name=f"g{d}_{i}",
                schema=default_tabular_schema(edge),
                setup=RemoteStorageSetup(
                    remote=RemoteStorage(
                        location=WebLocation(address=f"{base_url}/edges{i}.tsv.gz"),
                        encoding=encoding,
                    )
                ),
            )
            for i in range(d, n, datasets)
        ]
        sets.append(
            DataSet(name=f"graphs{d}", datum_templates=[edge], assets=tables).replicate_to_local(
                HiveTableStorage(
                    location=MinioLocation(name=f"graphs{d}"), encoding=ParquetEncoding()
                ),
                f"tmp/graphs{d}",
                CSVEncoding(),
            )
        )
    return Universe(name="graphs", datasets=sets)


def serve(root: Path, n: int) -> None:
    """Edge list `i` has `i % 3 + 1` edges, so row counts tell tables apart."""
    for i in range(n):
        rows = "".join(f"{i}\t{j}\n" for j in range(i % 3 + 1))
        (root / f"edges{i}.tsv.gz").write_bytes(gzip.compress(f"# from\tto\n{rows}".encode()))


def code_before_data(code: str, banner: str) -> list[str]:
    assert banner in code, "the long tables should be in a data section"
    return code[: code.index(banner)].splitlines()


@pytest.mark.parametrize(
    ("dialect", "banner"),
    [("python", f"# {DATA_BANNER}"), ("airflow", f"# {DATA_BANNER}"), ("r", f"# {DATA_BANNER}")],
)
def test_code_before_the_data_section_does_not_grow_with_the_universe(dialect, banner) -> None:
    small = code_before_data(
        dag(graphs("http://x", ASSETS), ["AllAssetsComputed"], dialect), banner
    )
    large = code_before_data(
        dag(graphs("http://x", 5 * ASSETS), ["AllAssetsComputed"], dialect), banner
    )
    # Only the task counts in the header differ (and a DAG's row ranges per group).
    assert len(small) == len(large)
    differing = [(a, b) for a, b in zip(small, large, strict=True) if a != b]
    assert all("task" in a or ".expand(row=list(range(" in a for a, _ in differing), differing
    # An R script also carries its runner and step markers (recipes/runtime/r/); a DAG
    # its task functions and groups.
    # The fixed part holds the freshness machinery too (versions, dry run, the record
    # of each step on whichever engine keeps the program's state), the contract
    # checks, the reading of a source's own delimiter, quote and column names, and the
    # runner's mode for an orchestrator that orders and retries the tasks itself.
    assert len(small) < 2300


@pytest.mark.parametrize("dialect", ["python", "airflow"])
def test_programs_with_a_data_section_are_black_fixed_points(dialect) -> None:
    code = dag(graphs("http://x", ASSETS), ["AllAssetsComputed"], dialect)
    assert f"# {DATA_BANNER}" in code
    assert black.format_str(code, mode=black.Mode()) == code
    assert dag(graphs("http://x", ASSETS), ["AllAssetsComputed"], dialect) == code


def test_short_tables_stay_next_to_their_loop() -> None:
    # The gathering step's rows (one per dataset) list every asset's task as upstream:
    # its table counts a line per asset and per dataset.
    code = dag(graphs("http://x", DATA_ROWS - 5), ["AllAssetsComputed"], "python")
    assert DATA_BANNER not in code
    code = dag(graphs("http://x", DATA_ROWS), ["AllAssetsComputed"], "python")
    assert DATA_BANNER in code


def test_python_program_with_a_data_section_runs(http_server, tmp_path: Path) -> None:
    serve(http_server.root, ASSETS)
    code = dag(graphs(http_server.base_url, ASSETS), ["AllAssetsComputed"], "python")
    lines = code.splitlines()
    main, data = (
        lines.index("def main(arguments: list[str] | None = None) -> None:"),
        lines.index(f"# {DATA_BANNER}"),
    )
    assert main < data < lines.index('if __name__ == "__main__":')
    # The download table has its own column of URLs; the other steps share one table.
    assert "DOWNLOADED_TASKS = [" in lines[data:] and "DATASET_ASSET_ROWS = [" in lines[data:]
    assert not any("g0_0" in line for line in lines[:data]), "no asset rows before the data"
    run_generated(code, tmp_path)
    tables = lake_tables(tmp_path)
    assert len(tables) == ASSETS
    for i in (0, 1, 2, ASSETS - 1):
        assert tables[f"graphs{i % DATASETS}.g{i % DATASETS}_{i}"] == i % 3 + 1
    (count,) = lake_query(tmp_path, 'SELECT count(*) FROM "graphs1"."g1_100"')[0]
    assert count == 100 % 3 + 1


def test_notebook_keeps_long_tables_in_a_data_cell_and_runs(http_server, tmp_path: Path) -> None:
    serve(http_server.root, ASSETS)
    text = dag(graphs(http_server.base_url, ASSETS), ["AllAssetsComputed"], "jupyter")
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    ids = [cell.id for cell in notebook.cells]
    assert ids.index("data") < ids.index("run-downloaded")
    steps = [cell for cell in notebook.cells if cell.id.startswith("run-")]
    assert all(len(cell.source.splitlines()) < 20 for cell in steps), "rows left in a step"
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert len(lake_tables(tmp_path)) == ASSETS


def test_r_script_defines_its_long_tables_before_main_runs(tmp_path: Path) -> None:
    code = dag(graphs("http://x", ASSETS), ["AllAssetsComputed"], "r")
    lines = code.splitlines()
    data = lines.index(f"# {DATA_BANNER}")
    assert lines.index("dataset_asset_rows <- list(") > data
    assert lines.index("downloaded_tasks <- list(") > data
    assert lines.index("main <- function() {") > data and lines[-1] == "main()"
    assert not any(line.startswith("  tasks <- list(") for line in lines), "long tables moved"
    script = tmp_path / "graphs.R"
    script.write_text(code)
    parsed = subprocess.run(
        ["Rscript", "-e", f"invisible(parse({str(script)!r}))"], capture_output=True, text=True
    )
    assert parsed.returncode == 0, parsed.stderr


def test_split_by_dataset_gives_one_program_per_dataset(http_server, tmp_path: Path) -> None:
    serve(http_server.root, 9)
    universe = graphs(http_server.base_url, 9)
    files = dag_files(universe, ["AllAssetsComputed"], "python", split="dataset")
    assert list(files) == ["graphs_graphs0.py", "graphs_graphs1.py", "graphs_graphs2.py"]
    for index, (file, code) in enumerate(files.items()):
        assert f"graphs{(index + 1) % DATASETS}" not in code, f"{file} holds another dataset"
        run_generated(code, tmp_path / file)
        assert sorted(lake_tables(tmp_path / file)) == [
            f"graphs{index}.g{index}_{i}" for i in range(index, 9, DATASETS)
        ]
    # Unsplit, the same call is one file with dag()'s text.
    assert dag_files(universe, ["AllAssetsComputed"], "python") == {
        "graphs.py": dag(universe, ["AllAssetsComputed"], "python")
    }


def test_split_airflow_dags_load_and_run_one_per_dataset(
    airflow_home: Path, http_server, tmp_path: Path
) -> None:
    serve(http_server.root, 6)
    universe = graphs(http_server.base_url, 6)
    files = dag_files(universe, ["AllAssetsComputed"], "airflow", split="dataset")
    assert list(files) == ["graphs_graphs0.py", "graphs_graphs1.py", "graphs_graphs2.py"]
    for index, code in enumerate(files.values()):
        part = Universe(name="graphs", datasets=[universe.datasets[index]])
        dag_id = f"graphs_graphs{index}"
        report = airflow(airflow_home, code, dag_id, tmp_path, "run" if index == 1 else "inspect")
        assert report["import_errors"] == {}
        # A file for one dataset does not claim that every asset of every dataset exists.
        assert not any("all_assets_computed" in task for task in report["airflow"])
        if index == 1:
            assert report["state"] == "success", report["failed"]
            expected = expected_graph(part)
            del expected["all_assets_computed"]
            assert report["tasks"] == expected
    # The three files side by side in one DAGs folder load together.
    result = subprocess.run(
        [sys.executable, str(AIRFLOW_RUNNER), str(tmp_path), "graphs_graphs2", "inspect"],
        env=airflow_env(airflow_home, tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["import_errors"] == {}
    assert sorted(p.name for p in tmp_path.glob("*.py")) == list(files)
    assert sorted(lake_tables(tmp_path)) == ["graphs1.g1_1", "graphs1.g1_4"]


def with_summary(universe: Universe) -> Universe:
    """`universe` and a dataset `summary` whose table unions g0_0 and g1_1."""
    summary = DataSet(
        name="summary",
        assets=[
            StaticDataTable(
                name="union",
                schema=UndefinedTabularSchema(),
                setup=ComputedFromLocalData(
                    source_asset_names={"a": "graphs0.g0_0", "b": "graphs1.g1_1"},
                    target=HiveTableStorage(
                        location=MinioLocation(name="summary"), encoding=ParquetEncoding()
                    ),
                    sql="SELECT from_id, to_id FROM {a} UNION ALL SELECT from_id, to_id FROM {b}",
                ),
            )
        ],
    )
    return Universe(name=universe.name, datasets=[*universe.datasets, summary])


# The lake after the programs of graphs0, graphs1 and summary: table -> rows.
SUMMARY_LAKE = {
    "graphs0.g0_0": 1,
    "graphs0.g0_3": 1,
    "graphs1.g1_1": 2,
    "graphs1.g1_4": 2,
    "summary.union": 3,
}


def test_a_split_program_reads_the_tables_of_other_datasets(http_server, tmp_path: Path) -> None:
    """The summary's program computes its table from tables the other programs make: run
    alone it fails, naming the missing table; after them it succeeds and touches none of
    theirs."""
    serve(http_server.root, 6)
    files = dag_files(
        with_summary(graphs(http_server.base_url, 6)), ["AllAssetsComputed"], split="dataset"
    )
    assert list(files) == [f"graphs_{d}.py" for d in ("graphs0", "graphs1", "graphs2", "summary")]
    summary = files["graphs_summary.py"]
    # It checks what it reads, and downloads nothing.
    assert "g0_0_asset_available" in summary and "g1_1_asset_available" in summary
    assert "edges0.tsv.gz" not in summary and "g0_3" not in summary
    failed = run_generated(summary, tmp_path / "alone", expect_ok=False)
    assert "table graphs0.g0_0 does not exist in the lake" in failed.stdout + failed.stderr
    assert "run the program that computes it first" in failed.stdout + failed.stderr
    lake = tmp_path / "lake"
    for file in ("graphs_graphs0.py", "graphs_graphs1.py", "graphs_summary.py"):
        run_generated(files[file], tmp_path / file, env={"LAKE_PATH": str(lake)})
    before = {name: lake_query(tmp_path, f"SELECT * FROM {name}") for name in lake_tables(tmp_path)}
    assert lake_tables(tmp_path) == SUMMARY_LAKE
    assert sorted(lake_query(tmp_path, "SELECT * FROM summary.union")) == [(0, 0), (1, 0), (1, 1)]
    # Rerun, the summary's program leaves the tables it reads as they were.
    run_generated(summary, tmp_path / "graphs_summary.py", env={"LAKE_PATH": str(lake)})
    assert {n: lake_query(tmp_path, f"SELECT * FROM {n}") for n in lake_tables(tmp_path)} == before


def test_a_split_dag_is_scheduled_on_the_tables_it_reads(
    airflow_home: Path, http_server, tmp_path: Path
) -> None:
    """The summary's DAG starts when any table it reads is announced: its schedule names
    exactly the assets the DAG computing them emits events for (same lake, same URIs),
    and with a cron schedule it also runs on the clock."""
    serve(http_server.root, 6)
    universe = with_summary(graphs(http_server.base_url, 6))
    files = dag_files(universe, ["AllAssetsComputed"], "airflow", split="dataset")
    first = airflow(airflow_home, files["graphs_graphs0.py"], "graphs_graphs0", tmp_path, "run")
    assert first["state"] == "success", first["failed"]
    assert first["reads"] == [] and first["schedule"] is None
    # graphs1 is made by its Python program, into the same lake.
    run_generated(
        dag_files(universe, ["AllAssetsComputed"], split="dataset")["graphs_graphs1.py"],
        tmp_path / "graphs1",
        env={"LAKE_PATH": str(tmp_path / "lake")},
    )
    report = airflow(airflow_home, files["graphs_summary.py"], "graphs_summary", tmp_path, "run")
    assert report["import_errors"] == {}
    assert report["state"] == "success", report["failed"]
    emitted = {uri for uri, _ in first["asset_events"]}
    g0_0 = next(uri for uri in emitted if uri.endswith("/graphs0/g0_0"))
    assert report["reads"] == sorted([g0_0, g0_0.replace("/graphs0/g0_0", "/graphs1/g1_1")])
    assert report["reads_any"]
    # It announces its own table, in the same lake, and checks (not announces) the others.
    assert [uri for uri, _ in report["asset_events"]] == [
        g0_0.replace("/graphs0/g0_0", "/summary/union")
    ]
    assert not any(
        "graphs0" in task or "g0_3" in task for task in report["tasks"] if "available" not in task
    )
    assert sorted(lake_query(tmp_path, "SELECT * FROM summary.union")) == [(0, 0), (1, 0), (1, 1)]
    # On the clock as well as on the tables.
    daily = dag_files(
        universe, ["AllAssetsComputed"], "airflow", split="dataset", schedule="@daily"
    )
    loaded = airflow(
        airflow_home, daily["graphs_summary.py"], "graphs_summary", tmp_path, "inspect"
    )
    assert loaded["import_errors"] == {} and loaded["reads"] == report["reads"]
    assert "AssetOrTimeSchedule" in daily["graphs_summary.py"]
    assert "0 0 * * *" in str(loaded["schedule"]) or "@daily" in str(loaded["schedule"])


def test_split_rejects_what_it_cannot_split() -> None:
    universe = graphs("http://x", 3)
    with pytest.raises(DeclarationError, match="cannot split by 'asset'"):
        dag_files(universe, ["AllAssetsComputed"], split="asset")
    with pytest.raises(DeclarationError, match="nothing to split by dataset"):
        dag_files(Universe(name="empty"), ["AllAssetsComputed"], split="dataset")


def test_cli_writes_one_file_per_dataset(tmp_path: Path, capsys) -> None:
    declaration = tmp_path / "universe.py"
    declaration.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_layout import graphs\n"
        "universe = graphs('http://example.org', 6)\n"
    )
    out = tmp_path / "dags"
    assert (
        cli(["generate", str(declaration), "-d", "airflow", "--split", "dataset", "-o", str(out)])
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "graphs_graphs0.py",
        "graphs_graphs1.py",
        "graphs_graphs2.py",
    ]
    assert cli(["generate", str(declaration), "--split", "dataset"]) == 2
    assert "--output DIR" in capsys.readouterr().err
