"""Tests for the R runtime that runs Python recipes (recipes/runtime/r/run_python.R)
and the R recipe for SQL-derived tables (recipes/r/compute_query.R).

run_python() is called from Rscript with small Python recipes that report, as JSON,
what they received; compute_query() runs on a lake made here with duckdb and is
compared with the Python recipe (recipes/python/compute_query.py) on the same inputs.
Both need R, lintr and the duckdb command-line shell (scripts/install-r.sh).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import pytest
from test_r_recipes import r_literal

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "recipes"
RUN_PYTHON = RECIPES / "runtime" / "r" / "run_python.R"
COMPUTE_QUERY = RECIPES / "r" / "compute_query.R"
HELPERS = [RECIPES / "runtime" / "r" / f"{name}.R" for name in ("markers", "duckdb_cli")]
TIMEOUT = 120
# What DuckDB lake files stay readable with: the duckdb command-line program (1.5).
LAKE_CONFIG = {"storage_compatibility_version": "v1.5.0"}


@pytest.fixture(scope="module", autouse=True)
def r_tools() -> None:
    missing = [t for t in ("Rscript", "duckdb") if shutil.which(t) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found on PATH: run scripts/install-r.sh first",
            pytrace=False,
        )


# --------------------------------------------------------------------------- helpers


def rscript(
    code: str, *, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["Rscript", "--vanilla", "-e", code],
        capture_output=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        env=env,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"Rscript failed ({result.returncode}):\n{result.stderr}")
    return result


def call(files: list[Path], entry: str, /, *args: str, check: bool = True, **kwargs):
    """Source files, then call entry with args (R code) and kwargs (R code)."""
    sources = "".join(f"source({r_literal(str(f))}); " for f in files)
    values = [*args, *(f"{name} = {value}" for name, value in kwargs.items())]
    return rscript(f"{sources}{entry}({', '.join(values)})", check=check)


def split_header(path: Path) -> tuple[dict, str]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = []
    for number, line in enumerate(lines):
        if not line.startswith("#"):
            return tomllib.loads("".join(header)), "".join(lines[number:])
        header.append(line[2:] if line.startswith("# ") else line[1:])
    raise AssertionError(f"{path}: no body")


def lint(path: Path) -> str:
    result = rscript(f"print(lintr::lint({r_literal(str(path))}))")
    return result.stdout.strip()


# ------------------------------------------------------------------ run_python.R

RECEIVER = """
import json


def describe(value):
    if isinstance(value, list):
        return ["list", [describe(item) for item in value]]
    if isinstance(value, dict):
        return ["dict", {key: describe(item) for key, item in value.items()}]
    return [type(value).__name__, value]


def receive(
    out: str,
    text: str,
    one: list[str],
    several: list[str],
    empty: list[str],
    nested: list[list[str]],
    maybe: list[str] | None,
    absent: list[str] | None,
    ratio: float,
    count: int,
    pairs: list[list],
    **rest,
) -> None:
    received = {
        "name": __name__,
        "text": text,
        "one": one,
        "several": several,
        "empty": empty,
        "nested": nested,
        "maybe": maybe,
        "absent": absent,
        "ratio": ratio,
        "count": count,
        "pairs": pairs,
        **rest,
    }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump({key: describe(value) for key, value in received.items()}, handle)
"""

HOSTILE = "q\"u'o\\te\n\ttab é 中 😀 $(touch x) `y` {0} %s \\u0041 \x01\x7f"


def run_receiver(tmp_path: Path, **args: str) -> dict:
    out = tmp_path / "received.json"
    call([RUN_PYTHON], "run_python", r_literal(RECEIVER), '"receive"', out=r_literal(out), **args)
    return json.loads(out.read_text(encoding="utf-8"))


def test_run_python_passes_each_kind_of_value(tmp_path: Path) -> None:
    got = run_receiver(
        tmp_path,
        text=r_literal(HOSTILE),
        one='c("_staging")',
        several='c("a", "b")',
        empty="list()",
        nested='list(c("persons", "people", "we\\"ird"), c("x"))',
        maybe='"just one"',
        absent="NULL",
        ratio="1",
        count="100",
        pairs='list(list("c", 1.0), c("kernel", "rbf"), list("max_depth", NULL))',
        flags="c(TRUE, FALSE)",
        missing="NA",
        missing_text="NA_character_",
        numbers="c(0.1, -2.5e-07, 1e300, 7L, 2^53, NaN, Inf, -Inf)",
        chars="character(0)",
        table='list(name = "t", columns = c("a", "b"), size = 3L)',
        nothing="NULL",
        single_unannotated='c("alone")',
    )
    assert got["name"] == ["str", "__aorist_step__"]
    assert got["text"] == ["str", HOSTILE]
    # A one-element vector or a scalar becomes a list where the annotation says list.
    assert got["one"] == ["list", [["str", "_staging"]]]
    assert got["several"] == ["list", [["str", "a"], ["str", "b"]]]
    assert got["empty"] == ["list", []]
    assert got["nested"] == [
        "list",
        [
            ["list", [["str", "persons"], ["str", "people"], ["str", 'we"ird']]],
            ["list", [["str", "x"]]],
        ],
    ]
    assert got["maybe"] == ["list", [["str", "just one"]]]
    assert got["absent"] == ["NoneType", None]
    # R prints 1 and 100 as doubles: the annotation decides, else whole numbers are ints.
    assert got["ratio"] == ["float", 1.0]
    assert got["count"] == ["int", 100]
    assert got["pairs"] == [
        "list",
        [
            ["list", [["str", "c"], ["int", 1]]],
            ["list", [["str", "kernel"], ["str", "rbf"]]],
            ["list", [["str", "max_depth"], ["NoneType", None]]],
        ],
    ]
    assert got["flags"] == ["list", [["bool", True], ["bool", False]]]
    assert got["missing"] == ["NoneType", None]
    assert got["missing_text"] == ["NoneType", None]
    numbers = got["numbers"][1]
    assert numbers[:5] == [
        ["float", 0.1],
        ["float", -2.5e-07],
        ["float", 1e300],
        ["int", 7],
        ["float", 2.0**53],
    ]
    assert numbers[5][0] == "float" and numbers[5][1] != numbers[5][1]  # NaN
    assert numbers[6:] == [["float", float("inf")], ["float", float("-inf")]]
    assert got["chars"] == ["list", []]
    assert got["table"] == [
        "dict",
        {
            "name": ["str", "t"],
            "columns": ["list", [["str", "a"], ["str", "b"]]],
            "size": ["int", 3],
        },
    ]
    assert got["nothing"] == ["NoneType", None]
    # No annotation: R's c("alone") is a string.
    assert got["single_unannotated"] == ["str", "alone"]


def test_run_python_floats_read_back_exactly(tmp_path: Path) -> None:
    values = [0.1, 1 / 3, 2.0 / 3e-300, 123456.789, -1e-320, 5e-324, 1.7976931348623157e308]
    code = (
        "import json\n"
        "def receive(out: str, values: list[float]) -> None:\n"
        "    with open(out, 'w') as handle:\n"
        "        json.dump([v.hex() for v in values], handle)\n"
    )
    out = tmp_path / "floats.json"
    numbers = ", ".join(f"{v!r}" for v in values)
    call(
        [RUN_PYTHON],
        "run_python",
        r_literal(code),
        '"receive"',
        out=r_literal(out),
        values=f"c({numbers})",
    )
    assert json.loads(out.read_text()) == [v.hex() for v in values]


def test_run_python_finds_functions_and_keeps_recipe_parameter_names(tmp_path: Path) -> None:
    # The recipe finds the user's function by name in its globals; parameters named like
    # run_python()'s own arguments, or a prefix of them, reach Python. (`function` is
    # reserved in R: a call names it in backticks.)
    code = (
        "import json\n"
        "def degree(rows):\n"
        "    return [2 * row for row in rows]\n"
        "def apply(out: str, function: str, source: str, entry: str, e: int) -> None:\n"
        "    result = globals()[function]([1, 2, 3])\n"
        "    with open(out, 'w') as handle:\n"
        "        json.dump([result, source, entry, e], handle)\n"
    )
    out = tmp_path / "applied.json"
    call(
        [RUN_PYTHON],
        "run_python",
        r_literal(code),
        '"apply"',
        '`function` = "degree"',
        out=r_literal(out),
        source='"s"',
        entry='"n"',
        e="5",
    )
    assert json.loads(out.read_text()) == [[2, 4, 6], "s", "n", 5]


def test_run_python_fails_with_pythons_error(tmp_path: Path) -> None:
    code = "def fail(table: list[str]) -> None:\n    raise ValueError(f'bad table {table}')\n"
    result = call([RUN_PYTHON], "run_python", r_literal(code), '"fail"', table='"t"', check=False)
    assert result.returncode != 0
    first = result.stderr.split("Error: ", 1)[1].splitlines()[0]
    assert first == "Python recipe fail failed (exit status 1): ValueError: bad table ['t']"
    assert "Traceback (most recent call last):" in result.stderr


def test_run_python_never_splices_arguments_into_code(tmp_path: Path) -> None:
    touched = tmp_path / "touched"
    # The entry name is passed as an argument too: a name that is code runs nothing.
    entry = f"x') or open({str(touched)!r}, 'w') or print('"
    code = "def f(a):\n    pass\n"
    result = call([RUN_PYTHON], "run_python", r_literal(code), r_literal(entry), check=False)
    assert result.returncode != 0
    assert "the Python code defines no function" in result.stderr
    payload = f"'); open({str(touched)!r}, 'w'); ('"
    out = tmp_path / "out.json"
    code = (
        "import json\n"
        "def f(out: str, a: str) -> None:\n"
        "    with open(out, 'w') as handle:\n"
        "        json.dump(a, handle)\n"
    )
    call(
        [RUN_PYTHON], "run_python", r_literal(code), '"f"', out=r_literal(out), a=r_literal(payload)
    )
    assert json.loads(out.read_text()) == payload
    assert not touched.exists()


def test_run_python_needs_named_arguments() -> None:
    result = call([RUN_PYTHON], "run_python", '"def f(a): pass"', '"f"', '"a"', check=False)
    assert "name each argument once" in result.stderr
    result = call([RUN_PYTHON], "run_python", '"def f(a): pass"', '"f"', a="1", check=False)
    assert result.returncode == 0, result.stderr
    result = call(
        [RUN_PYTHON], "run_python", '"def f(a): pass"', '"f"', "a = 1, a = 2", check=False
    )
    assert "name each argument once" in result.stderr


def test_run_python_uses_aorist_python(tmp_path: Path) -> None:
    used = tmp_path / "used"
    wrapper = tmp_path / "my python"
    wrapper.write_text(f'#!/bin/sh\ntouch "{used}"\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    out = tmp_path / "executable.json"
    code = (
        "import json, sys\n"
        "def f(out: str) -> None:\n"
        "    with open(out, 'w') as handle:\n"
        "        json.dump(sys.executable, handle)\n"
    )
    sources = f"source({r_literal(str(RUN_PYTHON))}); "
    run = f"run_python({r_literal(code)}, 'f', out = {r_literal(out)})"
    rscript(sources + run, env={**os.environ, "AORIST_PYTHON": str(wrapper)})
    assert used.exists()
    assert json.loads(out.read_text()) == sys.executable
    missing = {**os.environ, "AORIST_PYTHON": str(tmp_path / "no-such-python")}
    result = rscript(sources + run, check=False, env=missing)
    assert result.returncode != 0
    assert "no-such-python was not found; fix: " in result.stderr
    assert "set AORIST_PYTHON to the interpreter to use" in result.stderr


@pytest.mark.parametrize("library_path", ["", "/opt/one:/opt/two"])
def test_run_python_gets_the_library_path_r_started_with(tmp_path: Path, library_path: str) -> None:
    # R puts its own library directories first in LD_LIBRARY_PATH; a Python built with
    # a shared libpython could then load the system's. The interpreter sees the value R
    # was started with, and imports its own packages.
    out = tmp_path / "env.json"
    code = (
        "import json, os\n"
        "def f(out: str) -> None:\n"
        "    import duckdb\n"
        "    with open(out, 'w') as handle:\n"
        "        json.dump(os.environ.get('LD_LIBRARY_PATH', ''), handle)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    if library_path:
        env["LD_LIBRARY_PATH"] = library_path
    sources = f"source({r_literal(str(RUN_PYTHON))}); "
    rscript(sources + f"run_python({r_literal(code)}, 'f', out = {r_literal(out)})", env=env)
    assert json.loads(out.read_text()) == library_path


def test_run_python_header_and_lint() -> None:
    meta, body = split_header(RUN_PYTHON)
    assert meta == {
        "runtime": {
            "name": "run_python",
            "language": "r",
            "runs": "python",
            "summary": meta["runtime"]["summary"],
            "libraries": [],
        }
    }
    assert "library(" not in body and "::" not in body
    # The first function is the runtime; the others are its own, prefixed.
    code = (
        f"exprs <- parse({r_literal(str(RUN_PYTHON))}, keep.source = FALSE)\n"
        "for (e in exprs) {\n"
        '  stopifnot(identical(e[[1]], as.name("<-")),\n'
        '            identical(e[[3]][[1]], as.name("function")))\n'
        "  cat(as.character(e[[2]]), paste(names(e[[3]][[2]]), collapse = ','), '\\n')\n"
        "}\n"
    )
    names = [line.split() for line in rscript(code).stdout.splitlines()]
    assert names[0] == ["run_python", ".source,.entry,..."]
    assert len(names) > 1 and all(name[0].startswith("run_python_") for name in names[1:])
    assert lint(RUN_PYTHON) == ""


# ----------------------------------------------------------------- compute_query.R

SOURCES = [["cities", "places", 'we"ird'], ["persons", "people", "persons"]]
INPUTS = ["places/we_ird.parquet", "people/persons.parquet"]
OUTPUT = "_staging/report/lived.parquet"


def make_lake(lake: Path) -> None:
    """Two published tables of two datasets, each with its file and marker."""
    lake.mkdir()
    con = duckdb.connect(str(lake / "lake.duckdb"), config=LAKE_CONFIG)
    try:
        con.execute("CREATE SCHEMA people; CREATE SCHEMA places")
        con.execute('CREATE TABLE places."we""ird" (id BIGINT, name VARCHAR)')
        con.execute("INSERT INTO places.\"we\"\"ird\" VALUES (1, 'Paris'), (2, 'Zürich')")
        con.execute("CREATE TABLE people.persons (id BIGINT, name VARCHAR, city BIGINT)")
        con.execute("INSERT INTO people.persons VALUES (1, 'Ann', 2), (2, 'Bo', 1), (3, 'Cy', 2)")
    finally:
        con.close()
    for path in INPUTS:
        (lake / path).parent.mkdir(parents=True, exist_ok=True)
        (lake / path).write_bytes(b"PAR1")
        Path(f"{lake / path}.done").write_text(f"key of {path}\n\n")


def replace_persons(lake: Path, rows: str) -> None:
    con = duckdb.connect(str(lake / "lake.duckdb"), config=LAKE_CONFIG)
    try:
        con.execute(f"DELETE FROM people.persons; INSERT INTO people.persons VALUES {rows}")
    finally:
        con.close()


def compute_query_r(lake: Path, sql: str, *, check: bool = True, output: str = OUTPUT):
    return call(
        [*HELPERS, COMPUTE_QUERY],
        "compute_query",
        lake_path=r_literal(lake),
        sql=r_literal(sql),
        sources=r_literal(SOURCES),
        inputs=r_literal(INPUTS),
        output=r_literal(output),
        check=check,
    )


def compute_query_python():
    """The Python recipe's entry, defined after the markers helper, as in a program."""
    namespace: dict = {"__name__": "recipe_compute_query"}
    for path in (
        RECIPES / "runtime" / "python" / "markers.py",
        RECIPES / "runtime" / "python" / "lake_lock.py",
        RECIPES / "python" / "compute_query.py",
    ):
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102
    return namespace["compute_query"]


def rows(path: Path) -> list[tuple]:
    con = duckdb.connect()
    try:
        return con.execute("SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    finally:
        con.close()


JOIN = (
    "\u3000 \n SELECT p.name AS person, c.name AS city, '{{literal}}' AS braces\n"
    "FROM {persons} AS p JOIN {cities} AS c ON p.city = c.id\n"
    "ORDER BY p.id -- a trailing comment\n ;; \u2003\n"
)


def test_compute_query_joins_reruns_nothing_and_recomputes_a_changed_source(
    tmp_path: Path,
) -> None:
    lake = tmp_path / "lake"
    make_lake(lake)
    compute_query_r(lake, JOIN)
    output = lake / OUTPUT
    assert rows(output) == [
        ("Ann", "Zürich", "{literal}"),
        ("Bo", "Paris", "{literal}"),
        ("Cy", "Zürich", "{literal}"),
    ]
    marker = Path(f"{output}.done").read_text(encoding="utf-8").split("\n")
    assert marker[1] == "\t".join(str(lake / p) for p in INPUTS)
    made = output.stat().st_mtime_ns, output.read_bytes()

    # Same query, same source markers: skipped, even though the table changed.
    replace_persons(lake, "(1, 'Dee', 1)")
    compute_query_r(lake, JOIN)
    assert (output.stat().st_mtime_ns, output.read_bytes()) == made
    assert not [p for p in output.parent.iterdir() if p.name.endswith(".part")]

    # The source was published again (a new marker): computed again.
    Path(f"{lake / INPUTS[1]}.done").write_text("key of a newer file\n\n")
    compute_query_r(lake, JOIN)
    assert rows(output) == [("Dee", "Paris", "{literal}")]

    # Another query: computed again.
    compute_query_r(lake, "SELECT count(*) AS n FROM {cities}")
    assert rows(output) == [(2,)]


def test_compute_query_renders_as_the_python_recipe(tmp_path: Path) -> None:
    # current_query() is the COPY statement each recipe ran; the query inside is the
    # rendered SQL, byte for byte.
    sql = JOIN.replace("SELECT ", "SELECT current_query() AS q, ", 1)
    sql = sql.replace("'{{literal}}'", "'}}{{ é 😀 \"{{x}}\"'")
    lake_r, lake_python = tmp_path / "r", tmp_path / "python"
    make_lake(lake_r)
    make_lake(lake_python)
    compute_query_r(lake_r, sql)
    compute_query_python()(str(lake_python), sql, SOURCES, INPUTS, OUTPUT)

    def rendered(lake: Path) -> str:
        statement = rows(lake / OUTPUT)[0][0]
        assert statement.startswith("COPY (\n")
        return statement[len("COPY (\n") :].rsplit("\n) TO ", 1)[0]

    expected = (
        "SELECT current_query() AS q, p.name AS person, c.name AS city, "
        "'}{ é 😀 \"{x}\"' AS braces\n"
        'FROM "people"."persons" AS p JOIN "places"."we""ird" AS c ON p.city = c.id\n'
        "ORDER BY p.id -- a trailing comment"
    )
    assert rendered(lake_r) == expected
    assert rendered(lake_python) == expected
    assert [r[1:] for r in rows(lake_r / OUTPUT)] == [r[1:] for r in rows(lake_python / OUTPUT)]


@pytest.mark.parametrize(
    "sql",
    [
        # A semicolon followed by a comment stays: DuckDB refuses it, in both recipes.
        "SELECT 1 AS x; -- done ;",
        "\r\n\tSELECT no_such FROM {cities}\x1c;\r\n;\u00a0",
    ],
)
def test_compute_query_runs_the_same_failing_query_as_the_python_recipe(
    tmp_path: Path, sql: str
) -> None:
    lake = tmp_path / "lake"
    make_lake(lake)
    result = compute_query_r(lake, sql, check=False)
    assert result.returncode != 0
    ran_r = result.stderr.split("the query run was:\n", 1)[1].rsplit("\nExecution halted", 1)[0]
    make_lake(tmp_path / "python")
    with pytest.raises(ValueError, match="the query failed") as error:
        compute_query_python()(str(tmp_path / "python"), sql, SOURCES, INPUTS, OUTPUT)
    ran_python = str(error.value).split("the query run was:\n", 1)[1]
    assert ran_r == ran_python
    assert ran_r in (
        "SELECT 1 AS x; -- done",
        'SELECT no_such FROM "places"."we""ird"',
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "SELECT * FROM {nope}",
            "report.lived: the query's placeholder {nope} names no source table "
            "(roles: cities, persons); fix: use one of the roles of source_asset_names, "
            "or write {{ and }} for literal braces",
        ),
        (
            "SELECT * FROM { persons }",
            "report.lived: the query's placeholder { persons } names no source table",
        ),
        (
            "SELECT 'é}' FROM {persons}",
            "report.lived: single '}' at character 10 of the query; fix: write }} for a "
            "literal brace, or {role} for a source table (roles: cities, persons)",
        ),
        ("SELECT '{' AS x", "report.lived: single '{' at character 9 of the query"),
    ],
)
def test_compute_query_refuses_bad_placeholders(tmp_path: Path, sql: str, message: str) -> None:
    lake = tmp_path / "lake"
    make_lake(lake)
    result = compute_query_r(lake, sql, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (lake / OUTPUT).exists()
    with pytest.raises(ValueError, match="report.lived: ") as error:
        compute_query_python()(str(lake), sql, SOURCES, INPUTS, OUTPUT)
    assert message in str(error.value)


def test_compute_query_failure_distrusts_its_sources(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    make_lake(lake)
    result = compute_query_r(lake, "SELECT no_such_column FROM {persons}", check=False)
    assert result.returncode != 0
    assert "report.lived: the query failed: " in result.stderr
    assert "no_such_column" in result.stderr
    assert 'the query run was:\nSELECT no_such_column FROM "people"."persons"' in result.stderr
    assert not (lake / OUTPUT).exists()
    assert not [p for p in (lake / OUTPUT).parent.iterdir()]
    # The sources are read again by the next run.
    assert not [p for p in INPUTS if Path(f"{lake / p}.done").exists()]


def test_compute_query_header_and_lint(tmp_path: Path) -> None:
    meta, body = split_header(COMPUTE_QUERY)
    python, _ = split_header(RECIPES / "python" / "compute_query.py")
    recipe = meta["recipe"]
    assert recipe["constraint"] == python["recipe"]["constraint"] == "QueryComputed"
    assert recipe["uses"] == ["markers", "duckdb_cli"]
    assert recipe["libraries"] == []
    assert recipe["parameters"] == python["recipe"]["parameters"]
    assert list(recipe["parameters"]) == ["lake_path", "sql", "sources", "inputs", "output"]
    assert body.count("produce(") == 1
    # The rendering rule is written down identically in both recipes.
    rule = rendering_rule(COMPUTE_QUERY)
    assert "Python's str.isspace()" in rule
    assert rendering_rule(RECIPES / "python" / "compute_query.py") == rule
    # Defined after its helpers, as a program defines it, nothing is unknown to lintr.
    together = tmp_path / "compute_query.R"
    together.write_text("\n".join(p.read_text(encoding="utf-8") for p in [*HELPERS, COMPUTE_QUERY]))
    assert lint(together) == ""


def rendering_rule(path: Path) -> str:
    """The comment paragraph starting "The rendered query", comment marks removed."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    start = next(n for n, line in enumerate(lines) if line.startswith("# The rendered query"))
    rule = []
    for line in lines[start:]:
        if not line.startswith("#") or line == "#":
            break
        rule.append(line[1:].strip())
    return " ".join(rule)
