"""Contracts block bad data: a table whose new rows break a contract declared on its
attributes is not published, keeps its previous rows, and its step fails naming the
table, the column, the contract, how many rows break it and up to five of them.

Each test runs the generated program against sources on a loopback server and reads
the lake back; the bad source is then fixed upstream and the next run publishes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_trust import Scripted

from aorist import (
    Categorical,
    CSVEncoding,
    DataSet,
    EndpointConfig,
    Float64,
    HiveTableStorage,
    Int64,
    MinioLocation,
    ORCEncoding,
    ParquetEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    StringIdentifier,
    TSVEncoding,
    Universe,
    WebLocation,
    dag,
    default_tabular_schema,
    dummy_data,
)
from aorist.errors import DeclarationError

from conftest import airflow, lake_query, lake_tables, output_of, run_generated

ROW = RowStruct(
    name="item",
    attributes=[
        Int64("id", min=0, unique=True),
        Categorical("kind", accepted_values=["a", "b"]),
        StringIdentifier("code", regex="[A-Z]{2}"),
        Float64("weight", min=0, max=1),
    ],
)
GOOD = b"1\ta\tAB\t0.5\n2\tb\tCD\t1.0\n3\ta\tEF\t0.0\n"
FIX = "fix: correct the source, or the contract declared on the attribute; nothing was "
FIX += "published, the table keeps its previous version"
# For each contract: rows that break it (and no other), and what the step says.
BROKEN = {
    "min": (
        b"-3\ta\tAB\t0.5\n-1\tb\tCD\t0.5\n5\ta\tEF\t0.5\n",
        "column \"id\": 2 rows break min=0 (examples: '-3', '-1')",
    ),
    "max": (
        b"1\ta\tAB\t2.0\n2\tb\tCD\t1.5\n3\ta\tEF\t1.0\n",
        "column \"weight\": 2 rows break max=1.0 (examples: '1.5', '2.0')",
    ),
    "accepted_values": (
        b"1\tc\tAB\t0.5\n2\td\tCD\t0.5\n3\ta\tEF\t0.5\n",
        'column "kind": 2 rows break accepted_values=["a","b"] (examples: \'c\', \'d\')',
    ),
    "regex": (
        b"1\ta\tab\t0.5\n2\tb\tABC\t0.5\n3\ta\tEF\t0.5\n",
        "column \"code\": 2 rows break regex=\"[A-Z]{2}\" (examples: 'ABC', 'ab')",
    ),
    "unique": (
        b"1\ta\tAB\t0.5\n1\tb\tCD\t0.5\n2\ta\tEF\t0.5\n2\ta\tGH\t0.5\n2\ta\tIJ\t0.5\n",
        "column \"id\": 3 rows break unique=true (examples: '1', '2')",
    ),
}


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def universe(base: str, target=None, storage=None, endpoints=None) -> Universe:
    """Dataset `g`: tables `good` and `bad`, served at /good and /bad (into the lake,
    or into `storage` on `endpoints`)."""
    tables = [
        StaticDataTable(
            name=name,
            schema=default_tabular_schema(ROW),
            setup=RemoteStorageSetup(
                remote=RemoteStorage(
                    location=WebLocation(address=f"{base}/{name}"), encoding=TSVEncoding()
                )
            ),
        )
        for name in ("good", "bad")
    ]
    lake = storage or HiveTableStorage(
        location=MinioLocation(name="g"), encoding=target or ParquetEncoding()
    )
    dataset = DataSet(name="g", datum_templates=[ROW], assets=tables)
    dataset = dataset.replicate_to_local(lake, "tmp/g", CSVEncoding())
    return Universe(name="contracts", datasets=[dataset], endpoints=endpoints or EndpointConfig())


def rows(cwd: Path, table: str) -> list[tuple]:
    return lake_query(cwd, f"SELECT * FROM {table} ORDER BY ALL")


def expected(body: bytes) -> list[tuple]:
    parsed = [line.split(b"\t") for line in body.splitlines()]
    return sorted((int(i), k.decode(), c.decode(), float(w)) for i, k, c, w in parsed)


def serving() -> Iterator[Scripted]:
    """A scripted server with /good and /bad both serving GOOD (the fixture `served`)."""
    server = Scripted()
    try:
        server.serve("/good", GOOD)
        server.serve("/bad", GOOD)
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served() -> Iterator[Scripted]:
    yield from serving()


@pytest.mark.parametrize("contract", list(BROKEN))
@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_a_broken_contract_publishes_nothing_and_keeps_the_previous_rows(
    served, tmp_path, contract, fuse
) -> None:
    code = dag(universe(served.base), ["AllAssetsComputed"], "python", fuse=fuse)
    run_generated(code, tmp_path)
    assert rows(tmp_path, "g.bad") == expected(GOOD)

    body, said = BROKEN[contract]
    served.serve("/bad", body)
    out = output_of(run_generated(code, tmp_path, expect_ok=False))
    step = "source_loaded" if fuse else "converted_to_target_encoding"
    assert f"FAILED bad_{step}: ContractViolation: g.bad: {said}; {FIX}\n" in out, out
    # The table keeps its previous rows; the other table and its steps are unaffected.
    assert rows(tmp_path, "g.bad") == expected(GOOD)
    assert rows(tmp_path, "g.good") == expected(GOOD)
    assert "skipped bad_asset_computed: upstream" in out, out
    assert not list(tmp_path.rglob("*.part"))

    # Fixed upstream: the next run publishes it.
    served.serve("/bad", GOOD.replace(b"0.5", b"0.25"))
    run_generated(code, tmp_path)
    assert rows(tmp_path, "g.bad") == expected(GOOD.replace(b"0.5", b"0.25"))


def test_every_broken_contract_of_an_orc_table_is_named_at_once(served, tmp_path) -> None:
    """Several contracts broken at once are each named, in declaration order; an ORC
    table (loaded into lake.duckdb) keeps its previous rows too."""
    code = dag(universe(served.base, ORCEncoding()), ["AllAssetsComputed"], "python")
    run_generated(code, tmp_path)
    served.serve("/bad", b"-1\tz\tAB\t0.5\n-1\ta\tab\t0.5\n")
    out = output_of(run_generated(code, tmp_path, expect_ok=False))
    said = [
        "column \"id\": 2 rows break min=0 (examples: '-1')",
        "column \"id\": 1 row breaks unique=true (examples: '-1')",
        'column "kind": 1 row breaks accepted_values=["a","b"] (examples: \'z\')',
        'column "code": 1 row breaks regex="[A-Z]{2}" (examples: \'ab\')',
    ]
    message = "; ".join(f"g.bad: {line}" for line in said)
    assert f"FAILED bad_source_loaded: ContractViolation: {message}; {FIX}\n" in out, out
    assert rows(tmp_path, "g.bad") == expected(GOOD)
    assert lake_tables(tmp_path) == {"g.good": 3, "g.bad": 3}


def test_a_changed_contract_checks_rows_already_loaded(served, tmp_path) -> None:
    """A contract joins the step's version: tightening it re-checks unchanged data."""
    run_generated(dag(universe(served.base), ["AllAssetsComputed"], "python"), tmp_path)
    global ROW
    kept = ROW
    try:
        ROW = RowStruct(
            name="item",
            attributes=[Int64("id", min=2), *kept.attributes[1:]],  # type: ignore[attr-defined]
        )
        code = dag(universe(served.base), ["AllAssetsComputed"], "python")
    finally:
        ROW = kept
    out = output_of(run_generated(code, tmp_path, expect_ok=False))
    assert "g.good: column \"id\": 1 row breaks min=2 (examples: '1')" in out, out
    assert rows(tmp_path, "g.good") == expected(GOOD)


def test_a_broken_contract_fails_its_airflow_task_and_only_what_needs_it(
    served, airflow_home, tmp_path
) -> None:
    code = dag(universe(served.base), ["AllAssetsComputed"], "airflow")
    report = airflow(airflow_home, code, "contracts", tmp_path, "run")
    assert report["failed"] == [], report
    served.serve("/bad", BROKEN["min"][0])
    report = airflow(airflow_home, code, "contracts", tmp_path, "run")
    # Tasks are mapped over the tables (good is row 0, bad row 1): bad's load fails,
    # and what needs it does not run; good's chain succeeds.
    chain = "g.downloaded_to_temporary_files_removed"
    assert f"{chain}.source_loaded[1]" in report["failed"], report["failed"]
    assert not [task for task in report["failed"] if task.endswith("[0]")], report["failed"]
    assert report["state"] == "failed"
    assert rows(tmp_path, "g.bad") == expected(GOOD)


def test_sql_first_preferences_convert_a_table_with_contracts_in_python(served, tmp_path) -> None:
    """SQL cannot fail with a composed message: a table with contracts is converted by
    the python recipe even where SQL comes first, and its contracts are checked."""
    code = dag(
        universe(served.base),
        ["AllAssetsComputed"],
        "python",
        preferences=["sql", "python"],
        fuse=False,
    )
    assert "def convert_to_target(" in code and "def convert_to_parquet(" not in code
    served.serve("/bad", BROKEN["regex"][0])
    out = output_of(run_generated(code, tmp_path, expect_ok=False))
    said = BROKEN["regex"][1]
    assert f"FAILED bad_converted_to_target_encoding: ContractViolation: g.bad: {said}" in out, out
    assert lake_tables(tmp_path) == {"g.good": 3}


def test_dummy_data_satisfies_every_contract_and_the_generated_checks_agree(tmp_path) -> None:
    """`dummy_data` makes rows that hold every contract of the schema: served as the
    source of both tables, the generated program checks and publishes all of them."""
    asset = universe("http://127.0.0.1:9").datasets[0].assets[0]
    table = dummy_data(asset, 10_000, seed=3)
    assert table.num_rows == 10_000 and table.column_names == ["id", "kind", "code", "weight"]
    assert dummy_data(asset, 10_000, seed=3).equals(table)
    assert not dummy_data(asset, 10_000, seed=4).equals(table)
    records = table.to_pylist()
    assert len({r["id"] for r in records}) == 10_000 and min(r["id"] for r in records) >= 0
    assert {r["kind"] for r in records} == {"a", "b"}
    assert all(0 <= r["weight"] <= 1 for r in records)
    body = "".join(
        f"{r['id']}\t{r['kind']}\t{r['code']}\t{r['weight']!r}\n" for r in records
    ).encode()
    server = Scripted()
    try:
        server.serve("/good", body)
        server.serve("/bad", body)
        code = dag(universe(server.base), ["AllAssetsComputed"], "python")
        run_generated(code, tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert lake_tables(tmp_path) == {"g.good": 10_000, "g.bad": 10_000}
    assert rows(tmp_path, "g.bad") == sorted(tuple(r.values()) for r in records)


def test_dummy_data_says_when_the_contracts_leave_too_few_values() -> None:
    row = RowStruct(name="small", attributes=[Int64("n", min=0, max=9, unique=True)])
    asset = StaticDataTable(
        name="small",
        schema=default_tabular_schema(row),
        setup=universe("http://127.0.0.1:9").datasets[0].assets[0].setup,
    )
    assert sorted(dummy_data(asset, 10)["n"].to_pylist()) == list(range(10))
    with pytest.raises(DeclarationError, match=r"11 distinct whole numbers .* between 0 and 9"):
        dummy_data(asset, 11)


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_an_r_script_checks_contracts_with_the_same_words(served, tmp_path, fuse) -> None:
    """The R script checks every contract with the duckdb program, and fails with the
    python program's message; the table keeps its previous rows."""
    from test_r_dialect import rscript, run_r

    code = dag(universe(served.base), ["AllAssetsComputed"], "r", fuse=fuse)
    run_r(code, tmp_path)
    assert rows(tmp_path, "g.bad") == expected(GOOD)
    served.serve("/bad", b"-1\tz\tAB\t0.5\n-1\ta\tab\t0.5\n")
    failed = subprocess.run(
        [rscript(), "--vanilla", "main.R"], cwd=tmp_path, capture_output=True, text=True
    )
    assert failed.returncode != 0
    out = output_of(failed)
    said = [
        "column \"id\": 2 rows break min=0 (examples: '-1')",
        "column \"id\": 1 row breaks unique=true (examples: '-1')",
        'column "kind": 1 row breaks accepted_values=["a","b"] (examples: \'z\')',
        'column "code": 1 row breaks regex="[A-Z]{2}" (examples: \'ab\')',
    ]
    message = "; ".join(f"g.bad: {line}" for line in said)
    assert f"{message}; {FIX}" in out, out
    assert rows(tmp_path, "g.bad") == expected(GOOD)
    served.serve("/bad", GOOD.replace(b"0.5", b"0.25"))
    run_r(code, tmp_path)
    assert rows(tmp_path, "g.bad") == expected(GOOD.replace(b"0.5", b"0.25"))


def test_the_dummy_program_for_the_wine_models_runs_offline(tmp_path) -> None:
    """`aorist generate --dummy N`: each source is N rows of dummy data written in the
    program, so the whole pipeline, models and predictions included, runs with its
    declared sources unreachable (a closed port)."""
    declaration = tmp_path / "wine_universe.py"
    declaration.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(EXAMPLES)!r})\n"
        "from wine import wine_universe\n"
        "universe = wine_universe('http://127.0.0.1:9')\n",
        encoding="utf-8",
    )

    def generate(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "aorist", "generate", str(declaration), *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    code = generate("--dummy", "150")
    assert "127.0.0.1:9" not in code
    assert generate("--dummy", "150") == code
    assert generate("--dummy", "150", "--seed", "1") != code
    work = tmp_path / "work"
    work.mkdir()
    run_generated(code, work)
    tables = lake_tables(work)
    assert tables["wine.wine_table"] == 150
    assert tables["wine.alcohol_predictions"] == 150 and tables["wine.cultivar_predictions"] == 150
    assert tables["wine.alcohol_model_metrics"] > 0 and tables["wine.cultivar_model_metrics"] > 0
    before = {p: p.stat().st_mtime_ns for p in work.rglob("*.parquet")}
    run_generated(code, work)
    assert {p: p.stat().st_mtime_ns for p in work.rglob("*.parquet")} == before
