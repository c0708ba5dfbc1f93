"""Tests for the recipe files under recipes/ (python, bash and sql)."""

import ast
import datetime
import os
import re
import subprocess
import sys
import tomllib
import urllib.error
from pathlib import Path

import duckdb
import pytest

from conftest import PAYLOAD, Handler, sha

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
PREFIXES = {".py": "#", ".sh": "#", ".sql": "--"}
# recipes/runtime/ holds the helpers dialects use to run recipes, not recipes.
ALL_RECIPES = sorted(
    p for p in RECIPES.rglob("*") if p.suffix in PREFIXES and "runtime" not in p.parts
)


# --------------------------------------------------------------------------- helpers


def split_recipe(path: Path) -> tuple[dict, str]:
    """Return (parsed TOML header, body) of a recipe file."""
    prefix = PREFIXES[path.suffix]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = []
    for line in lines:
        if not line.startswith(prefix):
            break
        text = line[len(prefix) :]
        if text.strip() and not text.startswith(" "):
            raise AssertionError(f"{path}: comment prefix must be {prefix!r} + space")
        header.append(text[1:] if text.startswith(" ") else text.lstrip("\n"))
    return tomllib.loads("".join(header)), "".join(lines[len(header) :])


def helper_files() -> dict[str, Path]:
    """Helper name -> file, for the helpers Python recipes may use."""
    found = {}
    for path in (RECIPES / "runtime" / "python").glob("*.py"):
        meta, _ = split_recipe(path)
        if "helper" in meta:
            found[meta["helper"]["name"]] = path
    return found


def define_helpers(uses: list[str], namespace: dict) -> None:
    """Define the helpers `uses` names in `namespace`, each after those it uses itself
    and each once (as a program defines them)."""
    helpers = helper_files()
    for used in uses:
        if f"__helper_{used}" in namespace:
            continue
        namespace[f"__helper_{used}"] = True
        meta, _ = split_recipe(helpers[used])
        define_helpers(meta["helper"].get("uses", []), namespace)
        text = helpers[used].read_text(encoding="utf-8")
        exec(compile(text, str(helpers[used]), "exec"), namespace)  # noqa: S102


def load_python(name: str):
    """The recipe's entry function, defined after the helpers it uses (as in a program)."""
    path = RECIPES / "python" / f"{name}.py"
    meta, _ = split_recipe(path)
    namespace: dict = {"__name__": f"recipe_{name}"}
    define_helpers(meta["recipe"].get("uses", []), namespace)
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    exec(code, namespace)  # noqa: S102 - recipes are meant to be pasted verbatim
    return namespace[meta["recipe"]["entry"]]


def load_runtime(name: str) -> dict:
    """The namespace of recipes/runtime/python/<name>.py (a runtime or helper file),
    after the helpers it uses (as in a program)."""
    path = RECIPES / "runtime" / "python" / f"{name}.py"
    meta, _ = split_recipe(path)
    namespace: dict = {"__name__": f"runtime_{name}"}
    define_helpers((meta.get("runtime") or meta.get("helper") or {}).get("uses", []), namespace)
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102
    return namespace


def run_bash(name: str, *args, check: bool = True) -> subprocess.CompletedProcess:
    path = RECIPES / "bash" / f"{name}.sh"
    # The helpers it uses first, as programs pass it (recipes/runtime/bash/).
    uses = split_recipe(path)[0]["recipe"].get("uses", [])
    helpers = [RECIPES / "runtime" / "bash" / f"{used}.sh" for used in uses]
    script = "\n".join(p.read_text(encoding="utf-8") for p in [*helpers, path])
    return subprocess.run(
        ["bash", "-c", script, name, *[str(a) for a in args]],
        capture_output=True,
        text=True,
        check=check,
    )


def render_sql(name: str, values: dict, lake_path: str) -> str:
    """Substitute placeholders following the aorist SQL rendering rules."""
    meta, body = split_recipe(RECIPES / "sql" / f"{name}.sql")
    kinds = {k: v["sql"] for k, v in meta["recipe"]["parameters"].items()}

    def literal(value) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    def render(key: str) -> str:
        value, kind = values[key], kinds[key]
        if kind == "identifier":
            return ".".join('"' + part.replace('"', '""') + '"' for part in value)
        if kind == "literal":
            return literal(value)
        if kind == "lake_path":
            return literal(os.path.join(lake_path, value))
        if kind == "struct":
            fields = ", ".join(f"{literal(n)}: {literal(t)}" for n, t in value)
            return "{" + fields + "}"
        raise AssertionError(f"unknown sql kind {kind}")

    def substitute(match: re.Match) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return render(match.group(1))

    return re.sub(r"\{\{|\}\}|\{(\w+)\}", substitute, body)


def create_view(lake: Path, **params: object) -> None:
    """Run the create_temporary_table recipe through the Python runtime, as programs do."""
    meta, body = split_recipe(RECIPES / "sql" / "create_temporary_table.sql")
    roles = {name: spec["sql"] for name, spec in meta["recipe"]["parameters"].items()}
    template = re.sub(r"\{(\w+)\}", lambda m: "{" + m[1] + ":" + roles[m[1]] + "}", body)
    load_runtime("run_sql")["run_sql"](str(lake), template, **params)


# ------------------------------------------------------------------- header checks


@pytest.mark.parametrize("path", ALL_RECIPES, ids=lambda p: p.name)
def test_header(path: Path) -> None:
    meta, body = split_recipe(path)
    recipe = meta["recipe"]
    language = {".py": "python", ".sh": "bash", ".sql": "sql"}[path.suffix]
    assert recipe["language"] == language
    for key in ("constraint", "entry", "summary"):
        assert isinstance(recipe[key], str) and recipe[key]
    assert "\n" not in recipe["summary"]
    assert isinstance(recipe.get("libraries", []), list)
    params = recipe["parameters"]
    assert params
    for spec in params.values():
        assert isinstance(spec["from"], str)
        assert isinstance(spec["doc"], str) and "\n" not in spec["doc"]
        if language == "sql":
            assert spec["sql"] in ("identifier", "literal", "lake_path", "struct", "checked")
    if language == "bash":
        first = next(line for line in body.splitlines() if line.strip())
        assert first == "set -euo pipefail"
    if language == "sql":
        names = set(re.findall(r"(?<!\{)\{(\w+)\}(?!\})", body))
        assert names == set(params)


@pytest.mark.parametrize("path", sorted((RECIPES / "python").glob("*.py")), ids=lambda p: p.name)
def test_python_structure(path: Path) -> None:
    meta, _ = split_recipe(path)
    recipe = meta["recipe"]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = []
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            assert len(node.names) == 1
            imported.add(node.names[0].name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.FunctionDef):
            functions.append(node)
        else:
            pytest.fail(f"{path}: unexpected top-level {type(node).__name__}")
    assert [f.name for f in functions] == [recipe["entry"]]
    (function,) = functions
    args = function.args
    assert not args.posonlyargs and not args.vararg and not args.kwarg
    names = [a.arg for a in args.args + args.kwonlyargs]
    assert names == list(recipe["parameters"])
    assert ast.get_docstring(function)
    third_party = {m for m in imported if m not in sys.stdlib_module_names}
    assert third_party <= set(recipe["libraries"])


# ------------------------------------------------------------------------ download


def downloader():
    """The download recipe, for an uncompressed TSV source unless told otherwise."""
    download = load_python("download")

    def call(url, destination, sha256, compression=None, source_format="tsv"):
        return download(url, destination, sha256, compression, source_format)

    return call


def test_download_ok_and_idempotent(server, tmp_path) -> None:
    download = downloader()
    Handler.routes["/data"] = [(200, PAYLOAD)]
    destination = tmp_path / "sub" / "data.tsv"
    download(url=server + "/data", destination=str(destination), sha256=sha(PAYLOAD))
    assert destination.read_bytes() == PAYLOAD
    assert Handler.hits["/data"] == 1
    download(server + "/data", str(destination), sha(PAYLOAD).upper())
    assert Handler.hits["/data"] == 1
    assert sorted(os.listdir(destination.parent)) == ["data.tsv", "data.tsv.done"]
    # Another declaration (no checksum) is another step: it runs again.
    download(server + "/data", str(destination), None)
    assert Handler.hits["/data"] == 2


def test_download_redownloads_on_mismatch_of_existing_file(server, tmp_path) -> None:
    download = downloader()
    Handler.routes["/data"] = [(200, PAYLOAD)]
    destination = tmp_path / "data.tsv"
    destination.write_bytes(b"stale")
    download(server + "/data", str(destination), sha(PAYLOAD))
    assert destination.read_bytes() == PAYLOAD
    assert Handler.hits["/data"] == 1


def test_download_sha_mismatch(server, tmp_path) -> None:
    download = downloader()
    Handler.routes["/data"] = [(200, PAYLOAD)]
    destination = tmp_path / "data.tsv"
    wrong = "0" * 64
    url = server + "/data"
    with pytest.raises(ValueError) as info:
        download(url, str(destination), wrong)
    message = str(info.value)
    assert url in message and wrong in message and sha(PAYLOAD) in message
    assert os.listdir(tmp_path) == []


def test_download_retries_server_error(server, tmp_path) -> None:
    download = downloader()
    Handler.routes["/flaky"] = [(500, b"oops"), (200, PAYLOAD)]
    destination = tmp_path / "data.tsv"
    download(server + "/flaky", str(destination), sha(PAYLOAD))
    assert destination.read_bytes() == PAYLOAD
    assert Handler.hits["/flaky"] == 2


def test_download_client_error_fails_at_once(server, tmp_path) -> None:
    download = downloader()
    destination = tmp_path / "data.tsv"
    with pytest.raises(urllib.error.HTTPError) as info:
        download(server + "/missing", str(destination), None)
    info.value.close()
    assert Handler.hits["/missing"] == 1
    assert os.listdir(tmp_path) == []


def test_download_local_paths(tmp_path) -> None:
    download = downloader()
    source = tmp_path / "source.bin"
    source.write_bytes(PAYLOAD)
    download(str(source), str(tmp_path / "plain"), sha(PAYLOAD))
    download(source.as_uri(), str(tmp_path / "uri"), None)
    assert (tmp_path / "plain").read_bytes() == PAYLOAD
    assert (tmp_path / "uri").read_bytes() == PAYLOAD


# ---------------------------------------------------------------------- decompress


@pytest.mark.parametrize("compression", ["gzip", "bz2", "zip"])
def test_decompress_python(archives, tmp_path, compression) -> None:
    decompress = load_python("decompress")
    destination = tmp_path / "out" / "data.tsv"
    decompress(
        source=str(archives[compression]),
        destination=str(destination),
        compression=compression,
    )
    assert destination.read_bytes() == PAYLOAD
    destination.write_bytes(b"kept")
    decompress(str(archives[compression]), str(destination), compression)
    assert destination.read_bytes() == b"kept"


@pytest.mark.parametrize("compression", ["gzip", "bz2", "zip"])
def test_decompress_bash(archives, tmp_path, compression) -> None:
    destination = tmp_path / "out" / "data.tsv"
    run_bash("decompress", archives[compression], destination, compression)
    assert destination.read_bytes() == PAYLOAD
    destination.write_bytes(b"kept")
    run_bash("decompress", archives[compression], destination, compression)
    assert destination.read_bytes() == b"kept"


def test_decompress_errors(archives, tmp_path) -> None:
    decompress = load_python("decompress")
    destination = tmp_path / "out.tsv"
    with pytest.raises(ValueError, match="one.tsv.*two.tsv"):
        decompress(str(tmp_path / "two.zip"), str(destination), "zip")
    with pytest.raises(ValueError, match="xz"):
        decompress(str(archives["gzip"]), str(destination), "xz")
    with pytest.raises(ValueError, match="is truncated or corrupt as gzip.*fix: "):
        decompress(str(archives["bz2"]), str(destination), "gzip")
    assert not destination.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]

    result = run_bash("decompress", tmp_path / "two.zip", destination, "zip", check=False)
    assert result.returncode != 0 and "one.tsv" in result.stderr
    result = run_bash("decompress", archives["gzip"], destination, "xz", check=False)
    assert result.returncode != 0
    result = run_bash("decompress", archives["bz2"], destination, "gzip", check=False)
    assert result.returncode != 0
    assert not destination.exists() and not Path(f"{destination}.part").exists()


# ------------------------------------------------------------------- remove header

HEADERED = b"# comment\r\nfrom\tto\n1\t2\n3\t4"


# A TSV source's [delimiter, quote]: no quoting.
TAB = ["\t", ""]


@pytest.mark.parametrize("lines,expected", [(0, HEADERED), (2, b"1\t2\n3\t4"), (9, b"")])
def test_remove_header_python(tmp_path, lines, expected) -> None:
    remove_header = load_python("remove_header")
    source = tmp_path / "in"
    source.write_bytes(HEADERED)
    destination = tmp_path / "out"
    remove_header(
        source=str(source),
        destination=str(destination),
        num_lines=lines,
        source_format="tsv",
        dialect=["\t", ""],
        columns=[["from", "BIGINT"], ["to", "BIGINT"]],
    )
    assert destination.read_bytes() == expected
    remove_header(str(source), str(destination), lines, "tsv", TAB, [["a", "BIGINT"]])
    assert destination.read_bytes() == expected
    # A changed header count makes the file again: it is not trusted for another one.
    remove_header(str(source), str(destination), 0, "tsv", TAB, [["a", "BIGINT"]])
    assert destination.read_bytes() == HEADERED


@pytest.mark.parametrize("lines,expected", [(0, HEADERED), (2, b"1\t2\n3\t4"), (9, b"")])
def test_remove_header_bash(tmp_path, lines, expected) -> None:
    source = tmp_path / "in"
    source.write_bytes(HEADERED)
    destination = tmp_path / "sub" / "out"
    run_bash("remove_header", source, destination, lines)
    assert destination.read_bytes() == expected
    assert run_bash("remove_header", source, destination, "x", check=False).returncode


# ------------------------------------------------------------------ convert to csv


def test_convert_tsv(tmp_path) -> None:
    convert = load_python("convert_to_csv")
    source = tmp_path / "in.tsv"
    source.write_bytes(b'1\ta,b\r\n\n2\tsay "hi"\n3\t\n')
    destination = tmp_path / "out.csv"
    convert(
        source=str(source),
        destination=str(destination),
        source_format="tsv",
        dialect=TAB,
        columns=["id", "name"],
        header_lines=0,
        source_names=None,
    )
    assert destination.read_bytes() == b'1,"a,b"\n2,"say ""hi"""\n3,\n'


def test_convert_tsv_wrong_field_count(tmp_path) -> None:
    convert = load_python("convert_to_csv")
    source = tmp_path / "in.tsv"
    source.write_bytes(b"1\t2\n1 2\n")
    with pytest.raises(ValueError, match=":2:"):
        convert(str(source), str(tmp_path / "out.csv"), "tsv", TAB, ["a", "b"], 0, None)
    assert os.listdir(tmp_path) == ["in.tsv"]


def test_convert_jsonl(tmp_path) -> None:
    convert = load_python("convert_to_csv")
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"id": 1, "name": "x,y", "tags": ["a", "b"], "ok": true}\n'
        "\n"
        '{"id": 2, "extra": 1, "tags": {"k": null}, "ok": false, "name": null}\n'
        '{"id": 3, "name": "é", "score": 1.5}\n',
        encoding="utf-8",
    )
    destination = tmp_path / "out.csv"
    convert(
        str(source), str(destination), "jsonl", None, ["id", "name", "tags", "ok", "score"], 0, None
    )
    assert destination.read_text(encoding="utf-8") == (
        '1,"x,y","[""a"",""b""]",true,\n2,,"{""k"":null}",false,\n3,é,,,1.5\n'
    )


def test_convert_csv_copies(tmp_path) -> None:
    convert = load_python("convert_to_csv")
    source = tmp_path / "in.csv"
    source.write_bytes(b"1,2\n")
    convert(str(source), str(tmp_path / "out.csv"), "csv", [",", '"'], ["a", "b"], 0, None)
    assert (tmp_path / "out.csv").read_bytes() == b"1,2\n"


def test_convert_csv_of_another_dialect(tmp_path) -> None:
    """Lines ending in CRLF or LF, blank ones left out; tests/recipes/test_r_recipes.py
    compares more dialects with the R recipe's output."""
    convert = load_python("convert_to_csv")
    source = tmp_path / "in.csv"
    source.write_bytes(b'1;"a;b"\r\n\n2;"say ""hi"""\n3;"x\ny"\n4;\n')
    convert(str(source), str(tmp_path / "out.csv"), "csv", [";", '"'], ["a", "b"], 0, None)
    assert (tmp_path / "out.csv").read_bytes() == b'1,a;b\n2,"say ""hi"""\n3,"x\ny"\n4,\n'


def test_convert_csv_of_another_dialect_names_a_bad_line(tmp_path) -> None:
    convert = load_python("convert_to_csv")
    source = tmp_path / "in.csv"
    source.write_bytes(b"1;2\n1;2;3\n")
    with pytest.raises(ValueError, match=r"in.csv:2: expected 2 ';'-separated fields, found 3"):
        convert(str(source), str(tmp_path / "out.csv"), "csv", [";", '"'], ["a", "b"], 0, None)
    source.write_bytes(b'1;"2\n')
    with pytest.raises(ValueError, match=r"in.csv:1: not ';'-separated values quoted with"):
        convert(str(source), str(tmp_path / "out.csv"), "csv", [";", '"'], ["a", "b"], 0, None)
    assert sorted(os.listdir(tmp_path)) == ["in.csv"]


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


@pytest.mark.parametrize("target_format", ["parquet", "orc"])
def test_lake_end_to_end(tmp_path, target_format) -> None:
    lake = tmp_path / "my 'lake'"
    source = tmp_path / "in.tsv"
    source.write_text(
        "1\tplain\t1.5\t2020-01-02\n"
        "2\twith, comma\t\t\n"
        '\tquote "q"\t3.0\t1999-12-31\n'
        "4\t\t-2.25\t2000-02-29\n",
        encoding="utf-8",
    )
    csv_file = tmp_path / "out.csv"
    load_python("convert_to_csv")(
        str(source), str(csv_file), "tsv", TAB, [n for n, _ in COLUMNS], 0, None
    )
    staging_file = "_staging/test/my_table.csv"
    load_python("store_in_lake")(str(csv_file), str(lake), staging_file)
    assert (lake / staging_file).read_bytes() == csv_file.read_bytes()

    staging_table = ["_staging", 'test.my "table"']
    create_view(
        lake,
        schema=["_staging"],
        table=staging_table,
        file=staging_file,
        text_columns=[[n, "VARCHAR"] for n, _ in COLUMNS],
        columns=[[n, t, True] for n, t in COLUMNS],
        dataset="test",
        asset="my_table",
        header_lines=0,
    )
    con = duckdb.connect(str(lake / "lake.duckdb"))
    try:
        assert con.execute(
            'SELECT * FROM "_staging"."test.my ""table""" ORDER BY id NULLS LAST'
        ).fetchall() == sorted(ROWS, key=lambda r: (r[0] is None, r[0] or 0))
    finally:
        con.close()

    target_file = f"test/my_table/my_table.{target_format}"
    convert_to_target = load_python("convert_to_target")
    convert_to_target(
        lake_path=str(lake),
        table=staging_table,
        destination=target_file,
        target_format=target_format,
        staged=staging_file,
        contracts=[],
    )
    written = (lake / target_file).stat().st_mtime_ns
    convert_to_target(str(lake), staging_table, target_file, target_format, staging_file, [])
    assert (lake / target_file).stat().st_mtime_ns == written
    # Contracts join the step's version: new ones are checked on the rows (a NULL
    # breaks none), and a broken one leaves the file as it was.
    holding = [
        ["id", "min", 1, "min=1"],
        ["name", "regex", '.*[a-z"].*', 'regex=".*[a-z\\"].*"'],
        ["score", "max", 3.0, "max=3.0"],
        ["id", "unique", True, "unique=true"],
    ]
    convert_to_target(str(lake), staging_table, target_file, target_format, staging_file, holding)
    written = (lake / target_file).stat().st_mtime_ns
    breaking = [["name", "accepted_values", ["plain", "it's"], 'accepted_values=["plain","it\'s"]']]
    with pytest.raises(ValueError) as raised:
        convert_to_target(
            str(lake), staging_table, target_file, target_format, staging_file, breaking
        )
    assert str(raised.value).startswith(
        'test.my "table": column "name": 2 rows break accepted_values=["plain","it\'s"] '
        "(examples: 'quote \"q\"', 'with, comma'); fix: "
    ), raised.value
    assert (lake / target_file).stat().st_mtime_ns == written
    # The old file stays, untrusted (no marker) until a run makes it again.
    assert sorted(os.listdir(lake / "test" / "my_table")) == [f"my_table.{target_format}"]

    publish_table = load_python("publish_table")
    target_table = ["test", "my_table"]
    publish_table(
        lake_path=str(lake),
        source=target_file,
        source_format=target_format,
        table=target_table,
        staging=staging_table,
    )
    publish_table(str(lake), target_file, target_format, target_table, staging_table)

    drop_sql = render_sql("drop_temporary_table", {"table": staging_table}, str(lake))
    con = duckdb.connect(str(lake / "lake.duckdb"))
    try:
        con.execute(drop_sql).fetchall()
        con.execute(drop_sql).fetchall()
        rows = con.execute('SELECT * FROM "test"."my_table" ORDER BY id NULLS LAST').fetchall()
        assert rows == sorted(ROWS, key=lambda r: (r[0] is None, r[0] or 0))
        types = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'test' AND table_name = 'my_table' "
            "ORDER BY ordinal_position"
        ).fetchall()
        assert [list(t) for t in types] == COLUMNS
        views = con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE schema_name = '_staging'"
        ).fetchall()
        assert views == [(0,)]
    finally:
        con.close()


def test_publish_table_rolls_back(tmp_path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "broken.parquet").write_bytes(b"not parquet")
    with duckdb.connect(str(lake / "lake.duckdb")) as con:
        con.execute('CREATE SCHEMA _staging; CREATE VIEW _staging."fresh.table" AS SELECT 1')
    publish_table = load_python("publish_table")
    with pytest.raises(duckdb.Error):
        publish_table(
            str(lake), "broken.parquet", "parquet", ["fresh", "table"], ["_staging", "fresh.table"]
        )
    con = duckdb.connect(str(lake / "lake.duckdb"))
    try:
        schemas = con.execute(
            "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'fresh'"
        ).fetchall()
        views = con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchall()
    finally:
        con.close()
    # Nothing is published, and a failed step leaves no staging view behind.
    assert schemas == [(0,)] and views == [(0,)]


@pytest.mark.parametrize("target_format", ["parquet", "orc"])
def test_lake_empty_table(tmp_path, target_format) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    con = duckdb.connect(str(lake / "lake.duckdb"))
    try:
        con.execute(
            "CREATE SCHEMA s; CREATE VIEW s.v AS SELECT 1::BIGINT AS a, 'x' AS b WHERE false"
        ).fetchall()
    finally:
        con.close()
    target_file = f"t/empty.{target_format}"
    load_python("convert_to_target")(str(lake), ["s", "v"], target_file, target_format, "none", [])
    load_python("publish_table")(str(lake), target_file, target_format, ["p", "empty"], ["s", "v"])
    con = duckdb.connect(str(lake / "lake.duckdb"))
    try:
        assert con.execute("SELECT count(*) FROM p.empty").fetchall() == [(0,)]
        columns = con.execute("DESCRIBE p.empty").fetchall()
        assert [c[:2] for c in columns] == [("a", "BIGINT"), ("b", "VARCHAR")]
    finally:
        con.close()


@pytest.mark.parametrize(
    "path", [p for p in ALL_RECIPES if p.suffix == ".sql"], ids=lambda p: p.name
)
def test_sql_bodies_fit_an_r_script(path: Path) -> None:
    # SQL templates are embedded verbatim in generated R scripts, which lintr keeps
    # within 80 columns (the template sits inside a quoted, assigned string).
    _, body = split_recipe(path)
    long = [line for line in body.splitlines() if len(line) > 76]
    assert not long, f"{path.name}: lines longer than 76 characters: {long}"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (["a,b", "c"], ["a", "b,c"]),
        (['a", "b'], ["a", "b"]),
        (["a\n", "b"], ["a", "\nb"]),
        (["ab", ["c"]], ["ab", "c"]),
        ([None], ["None"]),
        ([1], ["1"]),
    ],
)
def test_version_parts_are_kept_apart_where_a_delimiter_would_fall(one, other) -> None:
    markers = load_runtime("markers")
    assert markers["digest"](*one) != markers["digest"](*other)
    assert markers["digest"](*one) == markers["digest"](*one)
    assert re.fullmatch(r"[0-9a-f]{64}", markers["digest"](*one))


def test_parts_of_a_file_and_of_its_marker_left_by_a_dead_run_are_removed(tmp_path) -> None:
    markers = load_runtime("markers")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = [f"t.parquet.{dead.pid}-0123abcd.part", f"t.parquet.done.{dead.pid}-4567cdef.part"]
    alive = f"t.parquet.done.{os.getpid()}-89abcdef.part"
    for name in [*left, alive, "other.parquet.1-0.part"]:
        (tmp_path / name).write_text("x", encoding="utf-8")
    markers["remove_abandoned_parts"](str(tmp_path / "t.parquet"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive, "other.parquet.1-0.part"])


def test_a_step_version_covers_its_recipe_code() -> None:
    markers = load_runtime("markers")

    def recipe() -> None: ...

    def edited() -> None:
        return None

    task, token = markers["Task"]("t", recipe), None
    keys = []
    for function in (recipe, edited, None):
        token = markers["TASK"].set(markers["Task"]("t", function))
        try:
            keys.append(markers["step_key"]("p", 1))
        finally:
            markers["TASK"].reset(token)
    assert len(set(keys)) == 3 and task.code == markers["code_version"](recipe)


def test_convert_reads_columns_by_the_names_in_the_header(tmp_path) -> None:
    """The last header line names the columns; each is read from its field, in
    schema order, and the others are left out."""
    convert = load_python("convert_to_csv")
    source = tmp_path / "in.tsv"
    source.write_bytes(b"# a comment\nB\tExtra\tA\n2\tx\t1\n4\ty\t3\n")
    destination = tmp_path / "out.csv"
    convert(str(source), str(destination), "tsv", TAB, ["a", "b"], 2, ["A", "B"])
    assert destination.read_bytes() == b"1,2\n3,4\n"
    # JSON objects are read by those names too.
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"B": 2, "A": 1, "a": 9}\n', encoding="utf-8")
    convert(str(jsonl), str(tmp_path / "j.csv"), "jsonl", None, ["a", "b"], 0, ["A", "B"])
    assert (tmp_path / "j.csv").read_bytes() == b"1,2\n"
    # A row of another width is named by its line in the source.
    source.write_bytes(b"# a comment\nB\tExtra\tA\n2\tx\t1\n4\ty\n")
    with pytest.raises(ValueError, match=r"in.tsv:4: expected 3 tab-separated fields, found 2"):
        convert(str(source), str(tmp_path / "o2.csv"), "tsv", TAB, ["a", "b"], 2, ["A", "B"])
    with pytest.raises(ValueError, match=r"the header names no column 'C' \(it names 'B', "):
        convert(str(source), str(tmp_path / "o3.csv"), "tsv", TAB, ["a", "b"], 2, ["A", "C"])
