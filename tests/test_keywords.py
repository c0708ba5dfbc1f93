"""Names that are keywords or names a generated program uses never break generation.

A universe, dataset, asset or attribute may be named `class`, `None`, `function`,
`NULL`, `select`, `print` or `LAKE_PATH`: each dialect either writes code that compiles
(and, for Airflow, that Airflow loads) or refuses the name with a typed error. Where a
name becomes an identifier of the program (the function defining an Airflow DAG), the
printer renames it (`class` -> `class_dag`) and the declared name stays the dag_id.
"""

from __future__ import annotations

import functools
import json
import keyword
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aorist import (
    AoristError,
    CSVEncoding,
    CSVHeader,
    DataSet,
    HiveTableStorage,
    KeyStringIdentifier,
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

from conftest import (
    CONSTRAINTS,
    airflow,
    airflow_env,
    lake_query,
    lake_tables,
    run_generated,
)
from fixtures_data import snap_like_bytes, snap_like_edges

R_RESERVED = [
    "if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE",
    "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "in",
]  # fmt: skip
SQL_RESERVED = [
    "select", "from", "table", "order", "group", "by", "where", "having", "limit", "offset",
    "join", "union", "all", "as", "on", "and", "or", "not", "null", "true", "false",
    "create", "drop", "insert", "update", "delete", "values", "into", "primary", "key",
    "default", "check", "case", "when", "then", "end", "distinct", "with", "column",
    "schema", "view", "user", "current_date", "cast", "pivot", "qualify", "window",
]  # fmt: skip
# Builtins and the names generated programs define or import.
PROGRAM_NAMES = [
    "main", "dag", "task", "tasks", "task_id", "row", "upstream", "outlet", "print", "open",
    "len", "list", "str", "type", "object", "enumerate", "os", "sys", "json", "duckdb",
    "pyarrow", "datetime", "timezone", "annotations", "Asset", "EmptyOperator", "LAKE_PATH",
    "lake_path", "ASSETS", "Run", "run", "download", "decompress", "run_sql", "check_table",
    "markers", "asset", "dataset", "url", "source", "destination", "columns", "c", "T", "F",
    "message", "paste0", "stop", "tryCatch", "self", "__doc__", "__name__", "_",
]  # fmt: skip
WORDS = sorted(set(keyword.kwlist + keyword.softkwlist + R_RESERVED + SQL_RESERVED + PROGRAM_NAMES))
ROLES = ("universe", "dataset", "asset", "attribute")
OFFLINE = "http://127.0.0.1:9/data"


def table(name: str, row: RowStruct) -> StaticDataTable:
    remote = RemoteStorage(
        location=WebLocation(address=f"{OFFLINE}/{name}.tsv"),
        encoding=TSVEncoding(header=CSVHeader(num_lines=4)),
    )
    return StaticDataTable(
        name=name, schema=default_tabular_schema(row), setup=RemoteStorageSetup(remote=remote)
    )


def dataset(name: str, assets: list[str], columns: list[str]) -> DataSet:
    row = RowStruct(name="row", attributes=[NumericIdentifier(c) for c in columns])
    data = DataSet(name=name, datum_templates=[row], assets=[table(a, row) for a in assets])
    lake = HiveTableStorage(location=MinioLocation(name=f"in_{name}"), encoding=ParquetEncoding())
    return data.replicate_to_local(lake, f"tmp/{name}", CSVEncoding())


def universe(role: str, words: list[str], name: str) -> Universe:
    """A universe named `name` whose datasets, assets or columns (by `role`) are `words`;
    two tables at least, so that steps loop over parameter tables."""
    if role == "dataset":
        datasets = [dataset(word, ["edges"], ["from_id", "to_id"]) for word in words]
    elif role == "asset":
        datasets = [dataset("data", [*words, "edges_extra"], ["from_id", "to_id"])]
    else:
        datasets = [dataset("data", ["edges", "other"], words)]
    return Universe(name=name, datasets=datasets)


def batches(words: list[str]) -> list[list[str]]:
    """`words` in as few lists as keep each list's words distinct ignoring case (names of
    one list must differ that way)."""
    out: list[list[str]] = []
    for word in words:
        batch = next((b for b in out if word.lower() not in {w.lower() for w in b}), None)
        if batch is None:
            out.append(batch := [])
        batch.append(word)
    return out


def full_program_names() -> list[str]:
    """The names a full Airflow program binds at module level (its recipes, tables, ...)."""
    import ast

    code = dag(universe("asset", ["edges"], "lab"), CONSTRAINTS, "airflow")
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return sorted(names - {"lab"})


Outcome = str | AoristError


def attempt(make: Callable[[], Universe], dialect: str) -> Outcome:
    try:
        return dag(make(), CONSTRAINTS, dialect)
    except AoristError as error:
        return error


@functools.cache
def generated(dialect: str) -> dict[str, Outcome]:
    """Label -> the generated program, or the typed error refusing its names.

    Every word names an empty universe, and a few words (in Airflow, every name a full
    program binds) a full one; datasets, assets and columns go in batches (a refused
    batch is tried word by word, so that one refused name does not hide the others).
    """
    out: dict[str, Outcome] = {}
    for word in WORDS:
        out[f"universe {word} (empty)"] = attempt(lambda w=word: Universe(name=w), dialect)
    # In Airflow the name also names the function defining the DAG, in a module binding
    # every name a full program binds; elsewhere it is only text.
    full = ["class", "None", "main", *(full_program_names() if dialect == "airflow" else [])]
    for word in sorted(set(full)):
        make = lambda w=word: universe("asset", ["edges"], w)  # noqa: E731
        out[f"universe {word}"] = attempt(make, dialect)
    for role in ROLES[1:]:
        for position, batch in enumerate(batches(WORDS)):
            name = f"{role}_batch_{position}"
            outcome = attempt(lambda r=role, b=batch, n=name: universe(r, b, n), dialect)
            if isinstance(outcome, str):
                out[name] = outcome
                continue
            for word in batch:
                words = [word, "padding"] if role != "dataset" else [word]
                make = lambda r=role, w=words, n=name: universe(r, w, n)  # noqa: E731
                out[f"{role} {word}"] = attempt(make, dialect)
    return out


def programs(dialect: str) -> dict[str, str]:
    """The generated programs; refusals must be typed errors naming the name refused."""
    results = generated(dialect)
    for label, outcome in results.items():
        if isinstance(outcome, AoristError):
            assert label.split()[-1] in str(outcome) or "(empty)" in label, (label, outcome)
    return {label: code for label, code in results.items() if isinstance(code, str)}


@pytest.mark.parametrize(
    "dialect", ["python", "airflow", "jupyter", "r", "dagster", "prefect", "hamilton"]
)
def test_no_keyword_is_refused(dialect: str) -> None:
    """Printers rename or quote; users are not restricted to names no language reserves."""
    refused = [label for label, o in generated(dialect).items() if not isinstance(o, str)]
    assert refused == [], refused


@pytest.mark.parametrize("dialect", ["python", "dagster", "prefect", "hamilton"])
def test_python_programs_compile(dialect: str) -> None:
    for label, code in programs(dialect).items():
        compile(code, label, "exec")


def test_notebook_cells_compile() -> None:
    for label, text in programs("jupyter").items():
        for cell in json.loads(text)["cells"]:
            if cell["cell_type"] == "code":
                compile("".join(cell["source"]), label, "exec")


def test_r_scripts_parse(tmp_path: Path) -> None:
    from test_r_dialect import rscript

    files = []
    for position, code in enumerate(programs("r").values()):
        path = tmp_path / f"script_{position}.R"
        path.write_text(code)
        files.append(str(path))
    check = "for (f in commandArgs(TRUE)) invisible(parse(file = f))"
    result = subprocess.run(
        [rscript(), "--vanilla", "-e", check, *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


LOAD = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "import_errors": {k: str(v)[-2000:] for k, v in bag.import_errors.items()},
    "dags": {dag_id: len(dag.tasks) for dag_id, dag in bag.dags.items()},
}))
"""


def test_airflow_dags_compile_and_load(airflow_home: Path, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    expected = {}
    for position, (label, code) in enumerate(programs("airflow").items()):
        compile(code, label, "exec")
        # The dag_ids of the empty universes and of the full ones would meet: one of each
        # per folder.
        folder = dags / ("empty" if label.endswith("(empty)") else "full")
        folder.mkdir(exist_ok=True)
        (folder / f"dag_{position}.py").write_text(code)
        dag_id = label.split()[1] if label.startswith("universe") else label.split()[0]
        expected.setdefault(folder.name, set()).add(dag_id)
    for folder, dag_ids in expected.items():
        result = subprocess.run(
            [sys.executable, "-c", LOAD, str(dags / folder)],
            env=airflow_env(airflow_home, dags / folder),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["import_errors"] == {}
        # Every file defines its DAG under the declared name.
        assert set(report["dags"]) == dag_ids


@pytest.mark.parametrize("word", ["class", "None", "True", "print", "task", "dag", "LAKE_PATH"])
def test_the_dag_function_is_renamed_and_the_dag_id_is_the_declared_name(word: str) -> None:
    code = dag(universe("asset", ["edges"], word), CONSTRAINTS, "airflow")
    compile(code, "dag.py", "exec")
    assert f'dag_id="{word}"' in code
    assert f"def {word}_dag() -> None:" in code and code.endswith(f"\n{word}_dag()\n")


def test_a_plain_name_stays_the_dag_function() -> None:
    code = dag(universe("asset", ["edges"], "my_lab"), CONSTRAINTS, "airflow")
    assert "def my_lab() -> None:" in code and code.endswith("\nmy_lab()\n")


# ----------------------------------------------------------------------- end to end

KEYWORD_TABLES = {"select": ["from", "None"], "class": ["table", "def"]}
KEYWORD_COLUMNS = ["order", "group", "function", "NULL"]


def keyword_universe(base: str) -> Universe:
    """Datasets, assets and columns named after keywords of Python, R and SQL."""
    row = RowStruct(
        name="True",
        attributes=[
            KeyStringIdentifier(KEYWORD_COLUMNS[0]),
            NumericIdentifier(KEYWORD_COLUMNS[1]),
            NumericIdentifier(KEYWORD_COLUMNS[2]),
            NumericIdentifier(KEYWORD_COLUMNS[3]),
        ],
    )
    datasets = []
    for dataset, assets in KEYWORD_TABLES.items():
        tables = [
            StaticDataTable(
                name=asset,
                schema=default_tabular_schema(row),
                setup=RemoteStorageSetup(
                    remote=RemoteStorage(
                        location=WebLocation(address=f"{base}/{dataset}/{asset}.tsv"),
                        encoding=TSVEncoding(header=CSVHeader(num_lines=4)),
                    )
                ),
            )
            for asset in assets
        ]
        lake = HiveTableStorage(
            location=MinioLocation(name=f"in_{dataset}"), encoding=ParquetEncoding()
        )
        data = DataSet(name=dataset, datum_templates=[row], assets=tables)
        datasets.append(data.replicate_to_local(lake, f"tmp/{dataset}", CSVEncoding()))
    return Universe(name="if", datasets=datasets)


def serve_keyword_tables(http_server) -> dict[str, list[tuple[object, ...]]]:
    """Four columns per row (key, two edge ends, their sum); returns the rows per table."""
    expected = {}
    for position, (dataset, asset) in enumerate(
        (d, a) for d, assets in KEYWORD_TABLES.items() for a in assets
    ):
        edges = snap_like_edges(10 + position, seed=position)
        rows = [(f"k{i}", a, b, a + b) for i, (a, b) in enumerate(edges)]
        header = snap_like_bytes(0).decode()
        body = "".join("\t".join(map(str, r)) + "\n" for r in rows)
        path = http_server.root / dataset / f"{asset}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + body)
        expected[f"{dataset}.{asset}"] = rows
    return expected


def check_keyword_tables(cwd: Path, expected: dict[str, list[tuple[object, ...]]]) -> None:
    assert lake_tables(cwd) == {name: len(rows) for name, rows in expected.items()}
    columns = ", ".join(f'"{c}"' for c in KEYWORD_COLUMNS)
    for name, rows in expected.items():
        dataset, asset = name.split(".")
        query = f'SELECT {columns} FROM "{dataset}"."{asset}" ORDER BY "{KEYWORD_COLUMNS[1]}", 1'
        assert lake_query(cwd, query) == sorted(rows, key=lambda r: (r[1], r[0])), name


def test_keyword_names_run_end_to_end_in_python(http_server, tmp_path: Path) -> None:
    expected = serve_keyword_tables(http_server)
    run_generated(dag(keyword_universe(http_server.base_url), CONSTRAINTS, "python"), tmp_path)
    check_keyword_tables(tmp_path, expected)


def test_keyword_names_run_end_to_end_in_r(http_server, tmp_path: Path) -> None:
    from test_r_dialect import run_r

    expected = serve_keyword_tables(http_server)
    run_r(dag(keyword_universe(http_server.base_url), CONSTRAINTS, "r"), tmp_path)
    check_keyword_tables(tmp_path, expected)


def test_keyword_names_run_end_to_end_in_airflow(
    airflow_home: Path, http_server, tmp_path: Path
) -> None:
    expected = serve_keyword_tables(http_server)
    code = dag(keyword_universe(http_server.base_url), CONSTRAINTS, "airflow")
    report = airflow(airflow_home, code, "if", tmp_path, "run")
    assert report["import_errors"] == {}
    assert report["state"] == "success", report["failed"]
    check_keyword_tables(tmp_path, expected)
