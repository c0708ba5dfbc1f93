"""The dagster, prefect and hamilton dialects, each run by its own tool.

Dagster by `dagster.materialize()` in a process and by `dagster asset materialize` on
the command line; Prefect by running the flow on an ephemeral server on 127.0.0.1;
Hamilton by its driver. Each run goes against the embedded lake, its sources served on
127.0.0.1; tables and models must be right, and a rerun must change nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_derived import check_wine_lake, lake_state

from aorist import (
    ComputedFromLocalData,
    DeclarationError,
    HiveTableStorage,
    MinioLocation,
    ParquetEncoding,
    StaticDataTable,
    UndefinedTabularSchema,
    Universe,
    dag,
    stage,
)

from conftest import _minimal_env, assert_no_aorist_import, lake_query, lake_tables
from fixtures_data import snap_edge_counts, snap_key, snap_like_gz, snap_universe

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))
import wine as wine_example  # noqa: E402

RUNNER = HERE / "orchestrator_runner.py"
NAMES = ["ca-GrQc", "web-Google", "amazon0302"]
# How each dialect's program is run: (dialect, runner mode).
WAYS = {
    "dagster": ("dagster", "dagster"),
    "dagster-cli": ("dagster", "cli"),
    "prefect": ("prefect", "prefect"),
    "hamilton": ("hamilton", "hamilton"),
}
RUN_TIMEOUT = 900


def run_tool(
    way: str,
    code: str,
    cwd: Path,
    homes: dict[str, str],
    name: str,
    expect_ok: bool = True,
    lake_path: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[dict, str]:
    """Write the program to `cwd/<name>.py` and run it the `way` given; (report, output).

    The report is the runner's JSON (what the tool says happened); for the Dagster
    command line, what its output says."""
    assert_no_aorist_import(code)
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / f"{name}.py").write_text(code, encoding="utf-8")
    env = {**_minimal_env(), **homes, **(env or {})}
    mode = WAYS[way][1]
    if mode == "cli":
        dagster = str(Path(sys.executable).parent / "dagster")
        command = [dagster, "asset", "materialize", "-f", f"{name}.py", "--select", "*"]
        if lake_path:
            config = {"resources": {"lake": {"config": {"path": lake_path}}}}
            command += ["--config-json", json.dumps(config)]
    else:
        command = [sys.executable, str(RUNNER), mode, name, *([lake_path] if lake_path else [])]
    proc = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=RUN_TIMEOUT,
        check=False,
    )
    out = f"{proc.stdout}\n{proc.stderr}"
    if mode == "cli":
        report = {"success": proc.returncode == 0}
    else:
        lines = proc.stdout.strip().splitlines()
        assert lines and lines[-1].startswith("{"), (
            f"{command} exited {proc.returncode}\n{out[-8000:]}"
        )
        report = json.loads(lines[-1])
    assert report["success"] == expect_ok, f"{way}: {report}\n{out[-8000:]}"
    return report, out


def python_lines(script: str | list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """What `python -c script` (or `python *script`) prints in `cwd`, as lines; it must
    exit 0."""
    arguments = ["-c", script] if isinstance(script, str) else script
    proc = subprocess.run(
        [sys.executable, *arguments],
        cwd=cwd,
        env={**_minimal_env(), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout.strip().splitlines()


# ------------------------------------------------------------------------------- SNAP


def serve_snap(http_server) -> dict[str, int]:
    counts = snap_edge_counts(NAMES)
    for name in NAMES:
        snap_like_gz(http_server.root / f"{name}.txt.gz", counts[name], seed=len(name))
    return {f"snap.{snap_key(n)}": c for n, c in counts.items()}


@pytest.mark.parametrize("way", list(WAYS))
def test_snap_graphs_in_each_orchestrator(way, http_server, tmp_path, tool_homes) -> None:
    expected = serve_snap(http_server)
    universe = snap_universe(http_server.base_url, NAMES)
    code = dag(universe, ["AllAssetsComputed"], WAYS[way][0])
    run_tool(way, code, tmp_path, tool_homes, "my_cluster")
    assert lake_tables(tmp_path) == expected
    for table in expected:
        assert lake_query(tmp_path, f"SELECT count(*) FROM {table} WHERE from_id < 0") == [(0,)]
    # The state table knows every step that made something.
    recorded = {row[0] for row in lake_query(tmp_path, "SELECT task FROM _aorist.steps")}
    assert {f"{snap_key(n)}_downloaded" for n in NAMES} <= recorded

    before = unchanged(tmp_path)
    _, out = run_tool(way, code, tmp_path, tool_homes, "my_cluster")
    assert unchanged(tmp_path) == before, out[-6000:]
    assert "skipped ca_grqc_source_loaded: up to date" in out


def unchanged(cwd: Path) -> tuple:
    """What a rerun that changes nothing leaves as it was: the published versions and
    files (see test_derived.lake_state) and the state table, timestamps included (a
    step that makes something is recorded anew)."""
    return lake_state(cwd), lake_query(cwd, "SELECT * FROM _aorist.steps ORDER BY ALL")


# ------------------------------------------------------------------------------- wine


def wine_universe(base_url: str) -> Universe:
    """examples/wine.py's universe (two models, their predictions) and a derived table."""
    universe = wine_example.wine_universe(base_url)
    wine = universe.datasets[0]
    lake = HiveTableStorage(location=MinioLocation(name="wine"), encoding=ParquetEncoding())
    wine.add_asset(
        StaticDataTable(
            name="class_sizes",
            schema=UndefinedTabularSchema(),
            setup=ComputedFromLocalData(
                source_asset_names={"wines": "wine_table"},
                target=lake,
                sql='SELECT "class", count(*) AS wines, avg(alcohol) AS alcohol'
                " FROM {wines} GROUP BY 1 ORDER BY 1",
            ),
        )
    )
    return universe


@pytest.fixture
def wine_served(http_server) -> tuple[Universe, Path, int]:
    csv_path = http_server.root / "wine.csv"
    n_rows = wine_example.write_wine_csv(csv_path)
    return wine_universe(http_server.base_url), csv_path, n_rows


def check_class_sizes(cwd: Path, csv_path: Path) -> None:
    import csv

    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sizes: dict[str, list[float]] = {}
    for row in rows:
        sizes.setdefault(row["class"], []).append(float(row["alcohol"]))
    found = lake_query(cwd, "SELECT * FROM wine.class_sizes ORDER BY 1")
    assert [(c, n) for c, n, _ in found] == [(c, len(v)) for c, v in sorted(sizes.items())]
    for (_, _, mean), (_, values) in zip(found, sorted(sizes.items()), strict=True):
        assert mean == pytest.approx(sum(values) / len(values))


@pytest.mark.parametrize("way", list(WAYS))
def test_wine_models_and_a_derived_table_in_each_orchestrator(
    way, wine_served, tmp_path, tool_homes
) -> None:
    universe, csv_path, n_rows = wine_served
    code = dag(universe, ["AllAssetsComputed"], WAYS[way][0])
    run_tool(way, code, tmp_path, tool_homes, "wine_ml")
    check_wine_lake(tmp_path, csv_path, n_rows)
    check_class_sizes(tmp_path, csv_path)
    before = unchanged(tmp_path)
    run_tool(way, code, tmp_path, tool_homes, "wine_ml")
    assert unchanged(tmp_path) == before


def test_a_lake_path_given_at_run_time_moves_the_lake(wine_served, tmp_path, tool_homes) -> None:
    """The lake is Dagster's resource config, Prefect's flow parameter, Hamilton's input."""
    universe, csv_path, n_rows = wine_served
    for way in ("dagster-cli", "prefect", "hamilton"):
        cwd = tmp_path / way
        code = dag(universe, ["AllAssetsComputed"], WAYS[way][0])
        run_tool(way, code, cwd, tool_homes, "wine_ml", lake_path="moved/lake")
        assert not (cwd / "lake").exists()
        check_class_sizes(cwd / "moved", csv_path)


# ----------------------------------------------------------------------- Dagster's graph


def lineage(universe: Universe) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    """The universe's asset lineage, as `aorist explain --view assets` prints it."""
    graph: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for line in stage(universe, ["AllAssetsComputed"], "lineage_text").splitlines():
        head = line.split("  [", 1)[0]
        asset, _, sources = head.partition(" <- ")
        key = tuple(asset.strip().split("."))
        graph[key] = {
            tuple(source.split("=", 1)[1].split(".")) for source in sources.split(", ") if source
        }
    return graph


def test_dagster_asset_graph_is_the_universe_asset_lineage(
    wine_served, tmp_path, tool_homes
) -> None:
    from test_derived import graph_universe

    universe, _, _ = wine_served
    for name, declared in [("wine_ml", universe), ("graphs", graph_universe("http://x"))]:
        code = dag(declared, ["AllAssetsComputed"], "dagster")
        (tmp_path / f"{name}.py").write_text(code, encoding="utf-8")
        script = (
            "import json, sys, importlib; sys.path.insert(0, '.');"
            f"graph = importlib.import_module({name!r}).defs.resolve_asset_graph();"
            "print(json.dumps({'/'.join(k.path): sorted('/'.join(p.path) for p in"
            " graph.get(k).parent_keys) for k in graph.get_all_asset_keys()}));"
            "print(json.dumps(sorted('/'.join(c.asset_key.path) + ':' + c.name"
            " for c in graph.asset_check_keys)))"
        )
        deps_line, checks_line = python_lines(script, tmp_path, tool_homes)[-2:]
        found = {
            tuple(key.split("/")): {tuple(p.split("/")) for p in parents}
            for key, parents in json.loads(deps_line).items()
        }
        assert found == lineage(declared), name
        assert json.loads(checks_line) == sorted(f"{'/'.join(key)}:contracts" for key in found)


# --------------------------------------------------------------------------- contracts


def contract_universe(base_url: str) -> Universe:
    """The contracts test's universe (g.good, g.bad), and a table computed from g.bad."""
    from test_contracts import universe

    declared = universe(base_url)
    dataset = declared.datasets[0]
    lake = HiveTableStorage(location=MinioLocation(name="g"), encoding=ParquetEncoding())
    dataset.add_asset(
        StaticDataTable(
            name="bad_ids",
            schema=UndefinedTabularSchema(),
            setup=ComputedFromLocalData(
                source_asset_names={"rows": "bad"}, target=lake, sql="SELECT id FROM {rows}"
            ),
        )
    )
    return declared


@pytest.fixture
def served():
    from test_contracts import serving

    yield from serving()


@pytest.mark.parametrize("way", ["dagster", "prefect", "hamilton"])
def test_a_broken_contract_publishes_nothing_and_stops_what_is_computed_from_it(
    way, served, tmp_path, tool_homes
) -> None:
    from test_contracts import BROKEN, GOOD, expected, rows

    code = dag(contract_universe(served.base), ["AllAssetsComputed"], WAYS[way][0])
    run_tool(way, code, tmp_path, tool_homes, "contracts")
    assert rows(tmp_path, "g.bad") == expected(GOOD)
    assert lake_query(tmp_path, "SELECT count(*) FROM g.bad_ids") == [(len(expected(GOOD)),)]
    published = lake_query(tmp_path, "SELECT * FROM _aorist.published ORDER BY 1, 2")

    served.serve("/bad", BROKEN["min"][0])
    report, out = run_tool(way, code, tmp_path, tool_homes, "contracts", expect_ok=False)
    assert "ContractViolation" in out and "break min=0" in out, out[-6000:]
    # Nothing new was published: g.bad keeps its rows, g.bad_ids was not recomputed.
    assert rows(tmp_path, "g.bad") == expected(GOOD)
    assert lake_query(tmp_path, "SELECT * FROM _aorist.published ORDER BY 1, 2") == published
    assert "running bad_ids_query_computed" not in out
    if way == "dagster":
        assert report["checks"]["g/bad"]["passed"] is False
        assert "break min=0" in report["checks"]["g/bad"]["metadata"]["violation"]
        assert report["checks"]["g/good"]["passed"] is True
        assert "g/bad" not in report["materialized"]
        assert "g/bad_ids" not in report["materialized"]
        assert "g/good" in report["materialized"]
        assert report["failed"] == ["g__bad"], report
    if way == "prefect":
        assert report["flow_state"] == "FAILED"


# --------------------------------------------------------------------------- schedules


def test_a_schedule_is_dagsters_schedule_and_prefects_cron(tmp_path, tool_homes) -> None:
    universe = snap_universe("http://127.0.0.1:9", NAMES[:1])
    code = dag(universe, ["AllAssetsComputed"], "dagster", schedule="0 3 * * *")
    (tmp_path / "scheduled.py").write_text(code, encoding="utf-8")
    flow = dag(universe, ["AllAssetsComputed"], "prefect", schedule="@daily")
    (tmp_path / "flowing.py").write_text(flow, encoding="utf-8")
    script = (
        "import json, sys; sys.path.insert(0, '.');"
        "import scheduled, flowing;"
        "schedule = scheduled.defs.get_schedule_def('my_cluster_schedule');"
        "deployment = flowing.my_cluster.to_deployment('my_cluster', cron=flowing.SCHEDULE);"
        "print(json.dumps([schedule.cron_schedule, schedule.execution_timezone,"
        " [s.schedule.cron for s in deployment.schedules]]))"
    )
    lines = python_lines(script, tmp_path, tool_homes)
    assert json.loads(lines[-1]) == ["0 3 * * *", "UTC", ["@daily"]]
    for dialect in ("dagster", "prefect"):
        with pytest.raises(DeclarationError, match="@once"):
            dag(universe, ["AllAssetsComputed"], dialect, schedule="@once")


# ------------------------------------------------------------------------ a large universe


@pytest.mark.parametrize("dialect", ["dagster", "prefect", "hamilton"])
def test_a_thousand_asset_universe_loads_in_its_tool(dialect, tmp_path, tool_homes) -> None:
    """Dagster resolves its asset graph (1,000 assets, 1,000 checks), Hamilton builds its
    driver (1,000 nodes), Prefect imports the flow. Load times are benchmarks/bench.py's
    `--tool-load`, not asserted here."""
    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    try:
        from bench import universe
    finally:
        sys.path.pop(0)
    (tmp_path / "wide.py").write_text(
        dag(universe(1000), ["AllAssetsComputed"], dialect), encoding="utf-8"
    )
    lines = python_lines([str(RUNNER), f"load-{dialect}", "wide"], tmp_path, tool_homes)
    report = json.loads(lines[-1])
    expected = {
        "dagster": {"nodes": 1000, "checks": 1000},
        "prefect": {"nodes": 4, "flows": 1},
        "hamilton": {"nodes": 1000},
    }[dialect]
    assert {k: report[k] for k in expected} == expected


# ---------------------------------------------------------------- Hamilton in, Hamilton out


def test_hamilton_functions_in_a_hamilton_module_out(http_server, tmp_path, tool_homes) -> None:
    """Tables declared as Hamilton-style functions (`derived_tables`) come back as the
    nodes of a Hamilton dataflow: one function per asset, its parameters the assets it
    is computed from; the driver makes them all, and a rerun changes nothing."""
    import derived_module
    from test_derived import graph_universe, serve_graphs

    from aorist import DataSet, derived_tables

    serve_graphs(http_server.root)
    universe = graph_universe(http_server.base_url)
    graphs = universe.datasets[0]
    lake = HiveTableStorage(location=MinioLocation(name="derived"), encoding=ParquetEncoding())
    tables = derived_tables(derived_module, lake)
    extended = DataSet(
        name="graphs", datum_templates=graphs.datum_templates, assets=[*graphs.assets, *tables]
    )
    universe = Universe(name="graph_lab", datasets=[extended, universe.datasets[1]])
    code = dag(universe, ["AllAssetsComputed"], "hamilton")
    report, _ = run_tool("hamilton", code, tmp_path, tool_homes, "graph_lab")
    results = report["results"]
    # Every asset is a node, named after it (prefixed by its dataset where the name is
    # taken: the module's own functions keep theirs, excluded from the dataflow).
    assert sorted(results.values()) == sorted(
        f"{d.name}.{a.name}" for d in universe.datasets for a in d.assets
    )
    assert results["hubs"] == "graphs.hubs"
    assert results["graphs_in_degree"] == "graphs.in_degree"
    signature = python_lines(
        "import inspect, sys; sys.path.insert(0, '.'); import graph_lab;"
        "print(list(inspect.signature(graph_lab.graphs_in_degree).parameters))",
        tmp_path,
        tool_homes,
    )[-1].split()
    assert signature == ["['edges',", "'lake_path']"]
    published = {
        r[0] for r in lake_query(tmp_path, "SELECT table_name FROM information_schema.tables")
    }
    assert {t.name for t in tables} <= published
    before = unchanged(tmp_path)
    run_tool("hamilton", code, tmp_path, tool_homes, "graph_lab")
    assert unchanged(tmp_path) == before


def test_a_lake_made_by_one_dialect_is_fresh_for_the_others(http_server, tmp_path, tool_homes):
    """The steps and their versions are the same in every dialect: after Hamilton made
    the lake, the python program's dry run (what `aorist status` runs) finds every step
    fresh, and Dagster makes nothing."""
    from conftest import dry_run

    serve_snap(http_server)
    universe = snap_universe(http_server.base_url, NAMES)
    run_tool(
        "hamilton", dag(universe, ["AllAssetsComputed"], "hamilton"), tmp_path, tool_homes, "a"
    )
    states, out = dry_run(dag(universe, ["AllAssetsComputed"], "python"), tmp_path, fresh=True)
    assert set(states.values()) == {"fresh"}, out
    before = unchanged(tmp_path)
    run_tool("dagster", dag(universe, ["AllAssetsComputed"], "dagster"), tmp_path, tool_homes, "b")
    assert unchanged(tmp_path) == before


def test_a_long_irregular_wait_list_is_a_table_prefect_picks_from(
    http_server, tmp_path, tool_homes, monkeypatch
) -> None:
    """A step whose rows wait for rows of several steps (a derived table's staging after
    its query, function or model) lists them; past the data section's threshold, as
    [step, row] pairs that `pick` turns into futures. The threshold lowered to one row,
    the derived tables' flow still computes every table."""
    from test_derived import check_graph_lake, graph_universe, serve_graphs

    import aorist.dialects.prefect as prefect_dialect

    monkeypatch.setattr(prefect_dialect, "DATA_ROWS", 1)
    serve_graphs(http_server.root)
    code = dag(graph_universe(http_server.base_url), ["AllAssetsComputed"], "prefect")
    assert "after=pick(" in code
    run_tool("prefect", code, tmp_path, tool_homes, "graphs")
    check_graph_lake(tmp_path)
