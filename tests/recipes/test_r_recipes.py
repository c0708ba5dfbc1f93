"""Tests for the R recipes (recipes/r/), the R SQL runtime (recipes/runtime/r/run_sql.R)
and the DuckDB SQL recipes they run (recipes/sql/).

Each recipe is sourced with Rscript and called on small data made here; the results are
checked from Python (files, and the lake database opened read-only with duckdb). The R
side needs R, lintr and the duckdb command-line shell: scripts/install-r.sh installs them.
Nothing is skipped: a missing tool fails the run.
"""

from __future__ import annotations

import datetime
import gzip
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import duckdb
import pytest

from conftest import PAYLOAD, Handler, sha

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "recipes"
R_RECIPES = sorted((RECIPES / "r").glob("*.R"))
R_RUNTIME = RECIPES / "runtime" / "r" / "run_sql.R"
R_FILES = [*R_RECIPES, R_RUNTIME]
# Packages whose functions the recipes may call with pkg::fn (base R only).
BASE_PACKAGES = {"base", "utils", "tools", "stats"}
TIMEOUT = 120


@pytest.fixture(scope="session", autouse=True)
def r_tools() -> None:
    missing = [t for t in ("Rscript", "duckdb", "sha256sum") if shutil.which(t) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found on PATH: run scripts/install-r.sh first",
            pytrace=False,
        )


# --------------------------------------------------------------------------- helpers


def split_header(path: Path) -> tuple[dict, str]:
    """(TOML header, body), the way aorist reads them: the leading comment block with
    the comment prefix and one space stripped from each line."""
    prefix = "--" if path.suffix == ".sql" else "#"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = []
    body: list[str] = []
    for number, line in enumerate(lines):
        if not line.startswith(prefix):
            body = lines[number:]
            break
        text = line[len(prefix) :]
        if text.strip() and not text.startswith(" "):
            raise AssertionError(f"{path}: comment prefix must be {prefix!r} + space")
        header.append(text[1:] if text.startswith(" ") else text)
    return tomllib.loads("".join(header)), "".join(body)


def r_literal(value: object) -> str:
    """R code for a Python value: None -> NULL, str -> "...", list of str -> c(...),
    other lists -> list(...)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        out = []
        for char in value:
            if char in '\\"':
                out.append("\\" + char)
            elif char == "\n":
                out.append("\\n")
            elif char == "\r":
                out.append("\\r")
            elif char == "\t":
                out.append("\\t")
            elif 32 <= ord(char) < 127:
                out.append(char)
            else:
                out.append(f"\\U{{{ord(char):x}}}")
        return '"' + "".join(out) + '"'
    if isinstance(value, (list, tuple)):
        items = ", ".join(r_literal(v) for v in value)
        if value and all(isinstance(v, str) for v in value):
            return f"c({items})"
        return f"list({items})"
    raise TypeError(f"no R literal for {value!r}")


def run_r(
    code: str, *, check: bool = True, locale: str | None = None
) -> subprocess.CompletedProcess:
    env = None if locale is None else {**os.environ, "LC_ALL": locale, "LANG": locale}
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


def call_r(
    path: Path,
    entry: str,
    /,
    *args: object,
    check: bool = True,
    locale: str | None = None,
    **kwargs: object,
) -> subprocess.CompletedProcess:
    """Source path and call entry(args, name = kwargs) in a fresh R session."""
    values = [r_literal(a) for a in args]
    values += [f"{name} = {r_literal(v)}" for name, v in kwargs.items()]
    code = f"source({r_literal(str(path))}); {entry}({', '.join(values)})"
    return run_r(code, check=check, locale=locale)


def call_recipe(name: str, /, *args: object, check: bool = True, **kwargs):
    path = RECIPES / "r" / f"{name}.R"
    meta, _ = split_header(path)
    return call_r(path, meta["recipe"]["entry"], *args, check=check, **kwargs)


def r_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    return result.stderr


def sql_template(name: str) -> str:
    """The body of recipes/sql/<name>.sql with {param} written {param:role}, as the
    aorist generator hands it to run_sql."""
    meta, body = split_header(RECIPES / "sql" / f"{name}.sql")
    roles = {k: v["sql"] for k, v in meta["recipe"]["parameters"].items()}

    def substitute(match: re.Match) -> str:
        if match.group(1) is None:
            return match.group(0)
        return "{" + match.group(1) + ":" + roles[match.group(1)] + "}"

    return re.sub(r"\{\{|\}\}|\{(\w+)\}", substitute, body)


def run_sql(
    lake: Path,
    template: str,
    /,
    *,
    check: bool = True,
    locale: str | None = None,
    **params: object,
):
    return call_r(R_RUNTIME, "run_sql", lake, template, check=check, locale=locale, **params)


def query(lake: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(lake / "lake.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ------------------------------------------------------------------- header checks


def r_functions() -> dict[str, tuple[int, str, list[str]]]:
    """For each R file: (number of top-level expressions, name assigned by the first
    one, formal argument names of the function it assigns)."""
    files = ", ".join(r_literal(str(p)) for p in R_FILES)
    code = (
        f"for (path in c({files})) {{\n"
        "  exprs <- parse(path, keep.source = FALSE)\n"
        "  first <- exprs[[1]]\n"
        "  env <- new.env()\n"
        "  eval(first, env)\n"
        "  name <- as.character(first[[2]])\n"
        "  fun <- get(name, env)\n"
        '  stopifnot(identical(first[[1]], as.name("<-")), is.function(fun))\n'
        "  cat(path, length(exprs), name, paste(names(formals(fun)), collapse = ','),\n"
        "      sep = '\\t')\n"
        "  cat('\\n')\n"
        "}\n"
    )
    out = {}
    for line in run_r(code).stdout.splitlines():
        path, count, name, formals = line.split("\t")
        out[path] = (int(count), name, formals.split(",") if formals else [])
    return out


@pytest.fixture(scope="module")
def functions() -> dict[str, tuple[int, str, list[str]]]:
    return r_functions()


def python_recipes() -> dict[str, dict]:
    out = {}
    for path in (RECIPES / "python").glob("*.py"):
        meta, _ = split_header(path)
        out[meta["recipe"]["constraint"]] = meta["recipe"]
    return out


def test_every_r_recipe_is_tested() -> None:
    assert [p.stem for p in R_RECIPES] == [
        "check_table",
        "convert_to_csv",
        "decompress",
        "download",
        "remove_header",
        "store_in_lake",
    ]


@pytest.mark.parametrize("path", R_RECIPES, ids=lambda p: p.name)
def test_r_header(path: Path, functions) -> None:
    meta, body = split_header(path)
    recipe = meta["recipe"]
    assert set(recipe) <= {
        "constraint",
        "language",
        "entry",
        "summary",
        "libraries",
        "parameters",
        "when",
    }
    assert recipe["language"] == "r"
    for key in ("constraint", "entry", "summary"):
        assert isinstance(recipe[key], str) and recipe[key]
    assert "\n" not in recipe["summary"]
    assert recipe["libraries"] == []
    params = recipe["parameters"]
    assert params
    for spec in params.values():
        assert set(spec) == {"from", "doc"}
        assert isinstance(spec["from"], str)
        assert isinstance(spec["doc"], str) and spec["doc"] and "\n" not in spec["doc"]

    # Same constraint, parameters and facts as the Python recipe.
    python = python_recipes()[recipe["constraint"]]
    assert {k: v["from"] for k, v in params.items()} == {
        k: v["from"] for k, v in python["parameters"].items()
    }
    assert list(params) == list(python["parameters"])

    # One top-level function, named by entry, whose formals are the parameters.
    count, name, formals = functions[str(path)]
    assert count == 1
    assert name == recipe["entry"]
    assert re.fullmatch(r"[a-z][a-z0-9_]*", name)
    assert formals == list(params)

    # Base R only.
    assert not re.search(r"\b(library|require|requireNamespace)\s*\(", body)
    assert set(re.findall(r"\b(\w+):::?", body)) <= BASE_PACKAGES


def test_r_convert_to_csv_applies_to_tsv_and_csv_only() -> None:
    meta, _ = split_header(RECIPES / "r" / "convert_to_csv.R")
    assert meta["recipe"]["when"] == {"source.format": ["tsv", "csv"]}


def test_r_runtime_header(functions) -> None:
    meta, body = split_header(R_RUNTIME)
    assert set(meta) == {"runtime"}
    runtime = meta["runtime"]
    assert runtime == {
        "name": "run_sql",
        "language": "r",
        "runs": "sql",
        "summary": runtime["summary"],
        "libraries": [],
    }
    assert runtime["summary"] and "\n" not in runtime["summary"]
    count, name, formals = functions[str(R_RUNTIME)]
    assert (count, name, formals) == (1, "run_sql", ["lake_path", "template", "..."])
    assert not re.search(r"\b(library|require|requireNamespace)\s*\(", body)
    assert set(re.findall(r"\b(\w+):::?", body)) <= BASE_PACKAGES


@pytest.mark.parametrize(
    "name,constraint",
    [("convert_to_parquet", "ConvertedToTargetEncoding"), ("publish_table", "TablePublished")],
)
def test_new_sql_headers(name: str, constraint: str) -> None:
    meta, body = split_header(RECIPES / "sql" / f"{name}.sql")
    recipe = meta["recipe"]
    assert recipe["constraint"] == constraint
    assert recipe["language"] == "sql"
    assert recipe["entry"] == name
    assert recipe["when"] == {"target.format": ["parquet"]}
    params = recipe["parameters"]
    python = python_recipes()[constraint]["parameters"]
    for spec in params.values():
        assert spec["sql"] in ("identifier", "literal", "lake_path", "struct")
        assert spec["from"] in {p["from"] for p in python.values()} | {"target.schema"}
    assert set(re.findall(r"(?<!\{)\{(\w+)\}(?!\})", body)) == set(params)


def test_lintr_reports_nothing() -> None:
    files = ", ".join(r_literal(str(p)) for p in R_FILES)
    code = (
        "suppressPackageStartupMessages(library(lintr))\n"
        f"for (path in c({files})) {{\n"
        "  lints <- lint(path)\n"
        "  print(lints)\n"
        "  cat('lints', length(lints), path, '\\n')\n"
        "}\n"
    )
    out = run_r(code).stdout
    counts = re.findall(r"^lints (\d+) (.*) $", out, flags=re.M)
    assert sorted(path for _, path in counts) == sorted(str(p) for p in R_FILES)
    assert all(count == "0" for count, _ in counts), out


# ------------------------------------------------------------------------ download


def test_download_ok_and_idempotent(server, tmp_path) -> None:
    Handler.routes["/data"] = [(200, PAYLOAD, None)]
    destination = tmp_path / "sub" / "data.tsv"
    call_recipe("download", url=server + "/data", destination=destination, sha256=sha(PAYLOAD))
    assert destination.read_bytes() == PAYLOAD
    assert Handler.hits["/data"] == 1
    assert Handler.agents == ["aorist"]
    call_recipe("download", server + "/data", destination, sha(PAYLOAD).upper())
    call_recipe("download", server + "/data", destination, None)
    assert Handler.hits["/data"] == 1
    assert sorted(os.listdir(destination.parent)) == ["data.tsv"]


def test_download_redownloads_on_mismatch_of_existing_file(server, tmp_path) -> None:
    Handler.routes["/data"] = [(200, PAYLOAD, None)]
    destination = tmp_path / "data.tsv"
    destination.write_bytes(b"stale")
    call_recipe("download", server + "/data", destination, sha(PAYLOAD))
    assert destination.read_bytes() == PAYLOAD
    assert Handler.hits["/data"] == 1


def test_download_sha_mismatch(server, tmp_path) -> None:
    Handler.routes["/data"] = [(200, PAYLOAD, None)]
    destination = tmp_path / "data.tsv"
    wrong = "0" * 64
    url = server + "/data"
    message = r_error(call_recipe("download", url, destination, wrong, check=False))
    assert "sha256 mismatch" in message
    assert url in message and wrong in message and sha(PAYLOAD) in message
    assert os.listdir(tmp_path) == []
    assert Handler.hits["/data"] == 1


def test_download_retries_server_error_and_short_body(server, tmp_path) -> None:
    Handler.routes["/flaky"] = [
        (500, b"oops", None),
        (200, PAYLOAD[:100], len(PAYLOAD)),
        (200, PAYLOAD, None),
    ]
    destination = tmp_path / "data.tsv"
    call_recipe("download", server + "/flaky", destination, None)
    assert destination.read_bytes() == PAYLOAD
    assert Handler.hits["/flaky"] == 3
    assert os.listdir(tmp_path) == ["data.tsv"]


def test_download_gives_up_after_five_tries(server, tmp_path) -> None:
    Handler.routes["/down"] = [(503, b"down", None)]
    message = r_error(call_recipe("download", server + "/down", tmp_path / "x", None, check=False))
    assert "503" in message and "5 attempt" in message
    assert Handler.hits["/down"] == 5
    assert os.listdir(tmp_path) == []


def test_download_client_error_fails_at_once(server, tmp_path) -> None:
    message = r_error(
        call_recipe("download", server + "/missing", tmp_path / "x", None, check=False)
    )
    assert "404" in message
    assert Handler.hits["/missing"] == 1
    assert os.listdir(tmp_path) == []


def test_download_local_paths(tmp_path) -> None:
    source = tmp_path / "source file.bin"
    source.write_bytes(PAYLOAD)
    call_recipe("download", source, tmp_path / "plain", sha(PAYLOAD))
    call_recipe("download", source.as_uri(), tmp_path / "uri", None)
    assert (tmp_path / "plain").read_bytes() == PAYLOAD
    assert (tmp_path / "uri").read_bytes() == PAYLOAD
    message = r_error(call_recipe("download", "ftp://host/x", tmp_path / "ftp", None, check=False))
    assert "unsupported URL scheme" in message


# ---------------------------------------------------------------------- decompress


@pytest.mark.parametrize("compression", ["gzip", "bz2", "zip"])
def test_decompress(archives, tmp_path, compression) -> None:
    destination = tmp_path / "out" / "data.tsv"
    call_recipe(
        "decompress",
        source=archives[compression],
        destination=destination,
        compression=compression,
    )
    assert destination.read_bytes() == PAYLOAD
    assert os.listdir(destination.parent) == ["data.tsv"]
    destination.write_bytes(b"kept")
    call_recipe("decompress", archives[compression], destination, compression)
    assert destination.read_bytes() == b"kept"


def test_decompress_errors(archives, tmp_path) -> None:
    destination = tmp_path / "out.tsv"
    message = r_error(
        call_recipe("decompress", tmp_path / "two.zip", destination, "zip", check=False)
    )
    assert "exactly one file" in message and "one.tsv" in message and "two.tsv" in message
    message = r_error(call_recipe("decompress", archives["gzip"], destination, "xz", check=False))
    assert "unknown compression 'xz'" in message
    message = r_error(call_recipe("decompress", archives["bz2"], destination, "gzip", check=False))
    assert "not a gzip file" in message
    corrupt = bytearray(gzip.compress(PAYLOAD))
    corrupt[-5] ^= 0xFF  # the stored CRC no longer matches
    (tmp_path / "corrupt.gz").write_bytes(bytes(corrupt))
    message = r_error(
        call_recipe("decompress", tmp_path / "corrupt.gz", destination, "gzip", check=False)
    )
    assert "cannot decompress" in message
    assert not destination.exists() and not Path(f"{destination}.part").exists()


# ------------------------------------------------------------------- remove header

HEADERED = b"# comment\r\nfrom\tto\n1\t2\n3\t4"


@pytest.mark.parametrize("lines,expected", [(0, HEADERED), (2, b"1\t2\n3\t4"), (9, b"")])
def test_remove_header(tmp_path, lines, expected) -> None:
    source = tmp_path / "in"
    source.write_bytes(HEADERED)
    destination = tmp_path / "sub" / "out"
    call_recipe("remove_header", source=source, destination=destination, num_lines=lines)
    assert destination.read_bytes() == expected
    call_recipe("remove_header", source, destination, 0)
    assert destination.read_bytes() == expected
    assert os.listdir(destination.parent) == ["out"]


def test_remove_header_streams_across_chunks(tmp_path) -> None:
    # Lines longer than R's 1 MiB read chunk: the header ends in a later chunk.
    header = b"h" * (1 << 20) + b"\n" + b"i" * 700_000 + b"\n"
    body = b"x" * (1 << 20) + b"\nlast"
    source = tmp_path / "in"
    source.write_bytes(header + body)
    call_recipe("remove_header", source, tmp_path / "out", 2)
    assert (tmp_path / "out").read_bytes() == body


@pytest.mark.parametrize("bad", ["x", -1, 1.5, True])
def test_remove_header_rejects_bad_counts(tmp_path, bad) -> None:
    source = tmp_path / "in"
    source.write_bytes(HEADERED)
    message = r_error(call_recipe("remove_header", source, tmp_path / "out", bad, check=False))
    assert "num_lines must be a non-negative integer" in message
    assert os.listdir(tmp_path) == ["in"]


# ------------------------------------------------------------------ convert to csv


def test_convert_tsv(tmp_path) -> None:
    source = tmp_path / "in.tsv"
    source.write_bytes(b'1\ta,b\r\n\n2\tsay "hi"\n3\t\n')
    destination = tmp_path / "out.csv"
    call_recipe(
        "convert_to_csv",
        source=source,
        destination=destination,
        source_format="tsv",
        columns=["id", "name"],
    )
    assert destination.read_bytes() == b'1,"a,b"\n2,"say ""hi"""\n3,\n'
    destination.write_bytes(b"kept")
    call_recipe("convert_to_csv", source, destination, "tsv", ["id", "name"])
    assert destination.read_bytes() == b"kept"


def test_convert_tsv_matches_python(tmp_path) -> None:
    source = tmp_path / "in.tsv"
    lines = [b"\xef\xbb\xbfid\tname\tnote", b'1\t\xc3\xa9\xe2\x82\xac\t"quoted"', b"\t\t"]
    lines += [f"{i}\tname {i}\tnote, {i}".encode() for i in range(25_000)]
    source.write_bytes(b"\n".join(lines) + b"\n\n7\tno\tfinal newline")
    namespace: dict = {}
    exec((RECIPES / "python" / "convert_to_csv.py").read_text(encoding="utf-8"), namespace)
    columns = ["id", "name", "note"]
    namespace["convert_to_csv"](str(source), str(tmp_path / "py.csv"), "tsv", columns)
    env = {**os.environ, "LC_ALL": "C"}  # bytes pass through in any locale
    result = subprocess.run(
        [
            "Rscript",
            "--vanilla",
            "-e",
            f"source({r_literal(str(RECIPES / 'r' / 'convert_to_csv.R'))}); "
            f"convert_to_csv({r_literal(str(source))}, "
            f"{r_literal(str(tmp_path / 'r.csv'))}, 'tsv', {r_literal(columns)})",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.csv").read_bytes() == (tmp_path / "py.csv").read_bytes()


def test_convert_tsv_wrong_field_count(tmp_path) -> None:
    source = tmp_path / "in.tsv"
    source.write_bytes(b"1\t2\n1 2\n")
    message = r_error(
        call_recipe("convert_to_csv", source, tmp_path / "out.csv", "tsv", ["a", "b"], check=False)
    )
    assert f"{source}:2: expected 2 tab-separated fields, found 1" in message
    assert os.listdir(tmp_path) == ["in.tsv"]


def test_convert_csv_copies(tmp_path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"1,2\n")
    call_recipe("convert_to_csv", source, tmp_path / "sub" / "out.csv", "csv", ["a", "b"])
    assert (tmp_path / "sub" / "out.csv").read_bytes() == b"1,2\n"


def test_convert_jsonl_and_unknown_formats_fail(tmp_path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"a": 1}\n', encoding="utf-8")
    message = r_error(
        call_recipe("convert_to_csv", source, tmp_path / "out.csv", "jsonl", ["a"], check=False)
    )
    assert "does not handle JSON lines" in message
    message = r_error(
        call_recipe("convert_to_csv", source, tmp_path / "out.csv", "xml", ["a"], check=False)
    )
    assert "unknown source format 'xml'" in message
    assert os.listdir(tmp_path) == ["in.jsonl"]


# ------------------------------------------------------------------- store in lake


def test_store_in_lake(tmp_path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"1,2\n")
    lake = tmp_path / "lake"
    call_recipe("store_in_lake", source=source, lake_path=lake, destination="_staging/d/a.csv")
    assert (lake / "_staging" / "d" / "a.csv").read_bytes() == b"1,2\n"
    source.write_bytes(b"changed\n")
    call_recipe("store_in_lake", source, lake, "_staging/d/a.csv")
    assert (lake / "_staging" / "d" / "a.csv").read_bytes() == b"1,2\n"
    assert os.listdir(lake / "_staging" / "d") == ["a.csv"]


# --------------------------------------------------------------------- run_sql (R)


def test_run_sql_quotes_each_role(tmp_path) -> None:
    lake = tmp_path / "new lake"
    template = (
        "CREATE SCHEMA {schema:identifier};\n"
        "CREATE TABLE {table:identifier} AS SELECT {text:literal} AS {column:identifier},"
        " {none:literal} AS n, {number:literal} AS i, {ratio:literal} AS r,"
        " {flag:literal} AS b, {path:lake_path} AS p,"
        " {row:struct} AS s, '{{}}' AS braces;"
    )
    run_sql(
        lake,
        template,
        schema=['we"ird'],
        table=['we"ird', "t'able; DROP TABLE x; --"],
        text="it's; DROP TABLE x; --\n.shell echo pwned",
        column='c o"l',
        none=None,
        number=42,
        ratio=0.25,
        flag=True,
        path="some dir/f'ile.csv",
        row=[["a'b", "INTEGER"], ["c", "VARCHAR"]],
    )
    assert (lake / "some dir").is_dir()
    rows = query(lake, 'SELECT * FROM "we""ird"."t\'able; DROP TABLE x; --"')
    absolute = str((lake / "some dir").resolve() / "f'ile.csv")
    assert rows == [
        (
            "it's; DROP TABLE x; --\n.shell echo pwned",
            None,
            42,
            0.25,
            True,
            absolute,
            {"a'b": "INTEGER", "c": "VARCHAR"},
            "{}",
        )
    ]
    columns = query(
        lake,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'we\"ird' ORDER BY ordinal_position",
    )
    assert columns[0] == ('c o"l',)


def test_run_sql_returns_rows_as_csv(tmp_path) -> None:
    template = "SELECT {a:literal} AS a, 'x,y' AS b UNION ALL SELECT 2, 'z' ORDER BY a;"
    out = run_r(
        f"source({r_literal(str(R_RUNTIME))}); "
        f"writeLines(run_sql({r_literal(str(tmp_path / 'lake'))}, "
        f"{r_literal(template)}, a = 1))"
    ).stdout
    assert out.splitlines() == ['1,"x,y"', "2,z"]


@pytest.mark.parametrize(
    "template,params,message",
    [
        ("SELECT {a:nope};", {"a": 1}, "unknown SQL parameter role 'nope'"),
        ("SELECT {b:literal};", {"a": 1}, "{b:literal} needs {name:role}"),
        ("SELECT {a};", {"a": 1}, "{a} needs {name:role}"),
        ("SELECT '}';", {}, "single '{' or '}'"),
        ("SELECT {a:identifier};", {"a": []}, "an identifier needs one or more names"),
        ("SELECT * FROM no_such_table;", {}, "no_such_table"),
    ],
)
def test_run_sql_errors(tmp_path, template, params, message) -> None:
    result = run_sql(tmp_path / "lake", template, check=False, **params)
    assert message in r_error(result)


def test_run_sql_stops_at_first_error(tmp_path) -> None:
    lake = tmp_path / "lake"
    result = run_sql(
        lake,
        "CREATE TABLE a AS SELECT 1 AS x; SELECT nope; CREATE TABLE b AS SELECT 2 AS x;",
        check=False,
    )
    assert "nope" in r_error(result)
    assert query(lake, "SELECT table_name FROM duckdb_tables() ORDER BY 1") == [("a",)]


def test_run_sql_passes_bytes_through_in_any_locale(tmp_path) -> None:
    lake = tmp_path / "lake"
    for locale in ("C", "C.UTF-8"):
        run_sql(
            lake,
            "CREATE OR REPLACE TABLE {table:identifier} AS"
            ' SELECT {text:literal} AS "ç" -- comment: é {{}}\n;',
            locale=locale,
            table=["main", "tåble"],
            text="h'é€",
        )
        assert query(lake, 'SELECT "ç" FROM "tåble"') == [("h'é€",)]
        result = call_recipe("check_table", lake, ["main", "tåble"], ["ç"], locale=locale)
        assert result.stdout == "main.tåble: 1 rows, columns ç\n"


# ---------------------------------------------------------------- lake end to end

COLUMNS = [
    ["id", "BIGINT"],
    ["name", "VARCHAR"],
    ["score", "DOUBLE"],
    ["day", "DATE"],
]
ROWS = [
    (1, "plain", 1.5, datetime.date(2020, 1, 2)),
    (2, "with, comma", None, None),
    (None, 'quote "q"', 3.0, datetime.date(1999, 12, 31)),
    (4, None, -2.25, datetime.date(2000, 2, 29)),
]
TSV = (
    "id\tname\tscore\tday\n"
    "1\tplain\t1.5\t2020-01-02\n"
    "2\twith, comma\t\t\n"
    '\tquote "q"\t3.0\t1999-12-31\n'
    "4\t\t-2.25\t2000-02-29\n"
)


def sorted_rows(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda r: (r[0] is None, r[0] or 0))


def test_lake_end_to_end(server, tmp_path) -> None:
    """download -> decompress -> remove_header -> convert_to_csv -> store_in_lake (R),
    then create_temporary_table, convert_to_parquet and publish_table (SQL, run by the R
    runtime), check_table (R); the lake is read back from Python."""
    lake = tmp_path / "my 'lake'"
    payload = gzip.compress(TSV.encode())
    Handler.routes["/data.tsv.gz"] = [(200, payload, None)]
    work = tmp_path / "tmp"
    call_recipe("download", server + "/data.tsv.gz", work / "d.a.download", sha(payload))
    call_recipe("decompress", work / "d.a.download", work / "d.a.decompressed", "gzip")
    call_recipe("remove_header", work / "d.a.decompressed", work / "d.a.body", 1)
    call_recipe(
        "convert_to_csv", work / "d.a.body", work / "d.a.csv", "tsv", [n for n, _ in COLUMNS]
    )
    staging_file = "_staging/test/my_table.csv"
    call_recipe("store_in_lake", work / "d.a.csv", lake, staging_file)

    staging_table = ["_staging", 'test__my "table"']
    run_sql(
        lake,
        sql_template("create_temporary_table"),
        schema=["_staging"],
        table=staging_table,
        file=staging_file,
        columns=COLUMNS,
    )
    assert sorted_rows(query(lake, 'SELECT * FROM "_staging"."test__my ""table"""')) == sorted_rows(
        ROWS
    )

    # The target directory does not exist yet: the runtime creates it.
    target_file = "test/my_table/my_table.parquet"
    assert not (lake / "test").exists()
    convert = sql_template("convert_to_parquet")
    run_sql(lake, convert, table=staging_table, destination=target_file)
    run_sql(lake, convert, table=staging_table, destination=target_file)
    assert os.listdir(lake / "test" / "my_table") == ["my_table.parquet"]
    parquet = duckdb.connect()
    try:
        rows = parquet.execute(
            "SELECT * FROM read_parquet(?)", [str(lake / target_file)]
        ).fetchall()
    finally:
        parquet.close()
    assert sorted_rows(rows) == sorted_rows(ROWS)

    publish = sql_template("publish_table")
    target = {"schema": ["test"], "table": ["test", "my_table"], "source": target_file}
    run_sql(lake, publish, **target)
    run_sql(lake, publish, **target)  # the table exists: kept as it is
    run_sql(lake, sql_template("drop_temporary_table"), table=staging_table)

    assert sorted_rows(query(lake, 'SELECT * FROM "test"."my_table"')) == sorted_rows(ROWS)
    types = query(
        lake,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'test' AND table_name = 'my_table' ORDER BY ordinal_position",
    )
    assert [list(t) for t in types] == COLUMNS
    assert query(lake, "SELECT count(*) FROM duckdb_views() WHERE schema_name = '_staging'") == [
        (0,)
    ]

    names = [n for n, _ in COLUMNS]
    result = call_recipe("check_table", lake_path=lake, table=["test", "my_table"], columns=names)
    assert result.stdout == "test.my_table: 4 rows, columns id, name, score, day\n"
    message = r_error(
        call_recipe("check_table", lake, ["test", "my_table"], names[:3], check=False)
    )
    assert "has columns [id, name, score, day], expected [id, name, score]" in message
    message = r_error(call_recipe("check_table", lake, ["test", "nope"], names, check=False))
    assert "test.nope has columns [], expected" in message


def test_publish_table_sql_rolls_back(tmp_path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "broken.parquet").write_bytes(b"not parquet")
    result = run_sql(
        lake,
        sql_template("publish_table"),
        check=False,
        schema=["fresh"],
        table=["fresh", "table"],
        source="broken.parquet",
    )
    assert "broken.parquet" in r_error(result)
    assert query(lake, "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'fresh'") == [
        (0,)
    ]


def test_convert_to_parquet_sql_leaves_no_file_on_error(tmp_path) -> None:
    lake = tmp_path / "lake"
    run_sql(
        lake,
        "CREATE VIEW v AS SELECT CASE WHEN i < 5000 THEN i ELSE error('boom') END AS i"
        " FROM range(10000) r(i);",
    )
    result = run_sql(
        lake,
        sql_template("convert_to_parquet"),
        check=False,
        table=["v"],
        destination="out/v.parquet",
    )
    assert "boom" in r_error(result)
    assert os.listdir(lake / "out") == []


def test_empty_table_end_to_end(tmp_path) -> None:
    lake = tmp_path / "lake"
    run_sql(
        lake, "CREATE SCHEMA s; CREATE VIEW s.v AS SELECT 1::BIGINT AS a, 'x' AS b WHERE false;"
    )
    run_sql(lake, sql_template("convert_to_parquet"), table=["s", "v"], destination="t/e.parquet")
    run_sql(
        lake,
        sql_template("publish_table"),
        schema=["p"],
        table=["p", "empty"],
        source="t/e.parquet",
    )
    assert query(lake, "SELECT count(*) FROM p.empty") == [(0,)]
    result = call_recipe("check_table", lake, ["p", "empty"], ["a", "b"])
    assert result.stdout == "p.empty: 0 rows, columns a, b\n"


# ------------------------------------------------------- DuckDB storage compatibility


def test_python_lake_readable_by_cli_with_pinned_storage_version(tmp_path) -> None:
    """A lake.duckdb Python creates with storage_compatibility_version v1.0.0 (what the
    CLI writes by default) can be read and written by the CLI; the reverse direction is
    covered by the tests above."""
    lake = tmp_path / "lake"
    lake.mkdir()
    con = duckdb.connect(
        str(lake / "lake.duckdb"), config={"storage_compatibility_version": "v1.0.0"}
    )
    try:
        con.execute("CREATE SCHEMA d; CREATE TABLE d.t AS SELECT 1 AS a, 'x' AS b").fetchall()
    finally:
        con.close()
    run_sql(lake, "INSERT INTO d.t VALUES (2, 'y');")
    result = call_recipe("check_table", lake, ["d", "t"], ["a", "b"])
    assert result.stdout == "d.t: 2 rows, columns a, b\n"
    assert query(lake, "SELECT * FROM d.t ORDER BY a") == [(1, "x"), (2, "y")]
