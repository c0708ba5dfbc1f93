"""Tests for the R recipes (recipes/r/), the R SQL runtime (recipes/runtime/r/run_sql.R),
the R helpers they use (recipes/runtime/r/) and the DuckDB SQL recipes they run
(recipes/sql/).

Each recipe is sourced with Rscript after the helpers it uses (as a program defines
them) and called on small data made here; the results are checked from Python (files,
markers, and the lake database opened read-only with duckdb). The R side needs R, lintr
and the duckdb command-line shell: scripts/install-r.sh installs them. Nothing is
skipped: a missing tool fails the run.
"""

from __future__ import annotations

import bz2
import datetime
import gzip
import hashlib
import io
import os
import re
import shlex
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path

import duckdb
import pytest

from conftest import PAYLOAD, Handler, sha

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "recipes"
R_RECIPES = sorted((RECIPES / "r").glob("*.R"))
R_RUNTIME = RECIPES / "runtime" / "r" / "run_sql.R"
R_HELPERS = {
    name: RECIPES / "runtime" / "r" / f"{name}.R"
    for name in (
        "markers",
        "duckdb_cli",
        "run",
        "checked_columns",
        "header_lines",
        "lake_publish",
        "progress",
        "contracts",
    )
}
R_FILES = [*R_RECIPES, R_RUNTIME]
# Packages whose functions the recipes may call with pkg::fn (base R only).
BASE_PACKAGES = {"base", "utils", "tools", "stats", "parallel"}
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


def call_r_after(
    helpers: list[Path],
    path: Path,
    entry: str,
    /,
    *args: object,
    check: bool = True,
    locale: str | None = None,
    **kwargs: object,
) -> subprocess.CompletedProcess:
    """Source the helpers, then path, and call entry(args, name = kwargs)."""
    values = [r_literal(a) for a in args]
    values += [f"{name} = {r_literal(v)}" for name, v in kwargs.items()]
    sources = "".join(f"source({r_literal(str(h))}); " for h in [*helpers, path])
    return run_r(f"{sources}{entry}({', '.join(values)})", check=check, locale=locale)


def used_helpers(path: Path) -> list[Path]:
    """The helper files a recipe (or runtime, or helper) uses, each after the helpers
    it uses itself, in the order a program defines them."""
    meta, _ = split_header(path)
    uses = (meta.get("recipe") or meta.get("runtime") or meta.get("helper") or {}).get("uses", [])
    out: list[Path] = []
    for name in uses:
        for helper in [*used_helpers(R_HELPERS[name]), R_HELPERS[name]]:
            if helper not in out:
                out.append(helper)
    return out


def call_recipe(
    name: str, /, *args: object, check: bool = True, locale: str | None = None, **kwargs: object
):
    path = RECIPES / "r" / f"{name}.R"
    meta, _ = split_header(path)
    entry = meta["recipe"]["entry"]
    helpers = used_helpers(path)
    return call_r_after(helpers, path, entry, *args, check=check, locale=locale, **kwargs)


def download(url, destination, sha256=None, compression=None, source_format="tsv", **kwargs):
    """The R download recipe, for an uncompressed TSV source unless told otherwise."""
    return call_recipe("download", url, destination, sha256, compression, source_format, **kwargs)


def marker(path: Path) -> list[str]:
    """The lines of path's marker (path + ".done"), or [] when it has none."""
    done = Path(f"{path}.done")
    return done.read_text(encoding="utf-8").splitlines() if done.exists() else []


def listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


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
    return call_r_after(
        used_helpers(R_RUNTIME),
        R_RUNTIME,
        "run_sql",
        lake,
        template,
        check=check,
        locale=locale,
        **params,
    )


def query(lake: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(lake / "lake.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ------------------------------------------------------------------- header checks


def r_functions() -> dict[str, tuple[int, str, list[str], list[str]]]:
    """For each R file: (number of top-level expressions, name assigned by the first
    one, formal argument names of the function it assigns, every name assigned)."""
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
        "  all <- vapply(exprs, function(e) as.character(e[[2]]), '')\n"
        "  cat(path, length(exprs), name, paste(names(formals(fun)), collapse = ','),\n"
        "      paste(all, collapse = ','), sep = '\\t')\n"
        "  cat('\\n')\n"
        "}\n"
    )
    out = {}
    for line in run_r(code).stdout.splitlines():
        path, count, name, formals, names = line.split("\t")
        out[path] = (int(count), name, formals.split(",") if formals else [], names.split(","))
    return out


@pytest.fixture(scope="module")
def functions() -> dict[str, tuple[int, str, list[str], list[str]]]:
    return r_functions()


def python_recipes() -> dict[tuple[str, tuple[str, ...]], dict]:
    out = {}
    for path in (RECIPES / "python").glob("*.py"):
        meta, _ = split_header(path)
        # The embedded lake's recipe: R writes to no other engine.
        if "lake" in meta["recipe"].get("when", {}).get("engine", ["lake"]):
            recipe = meta["recipe"]
            out[recipe["constraint"], tuple(recipe.get("covers", []))] = recipe
    return out


def test_every_r_recipe_is_tested() -> None:
    assert [p.stem for p in R_RECIPES] == [
        "check_table",
        "compute_query",
        "convert_to_csv",
        "convert_to_target",
        "decompress",
        "download",
        "load_source",  # run by tests/test_r_dialect.py and tests/test_r_trust.py
        "publish_table",
        "remove_header",
        "remove_temporary_files",  # tested in tests/test_cleanup.py
        "store_in_lake",
    ]
    found = {}
    for path in (RECIPES / "runtime" / "r").glob("*.R"):
        meta, _ = split_header(path)
        if "helper" in meta:
            found[meta["helper"]["name"]] = path
    assert found == R_HELPERS


# Every file an R recipe writes is made through produce() (a marker, a unique part).
WRITERS = ["compute_query", "convert_to_csv", "convert_to_target", "decompress", "download"]
WRITERS += ["remove_header", "store_in_lake"]


@pytest.mark.parametrize("name", WRITERS)
def test_file_writing_recipes_use_markers(name: str) -> None:
    meta, body = split_header(RECIPES / "r" / f"{name}.R")
    assert "markers" in meta["recipe"]["uses"]
    assert body.count("produce(") == 1
    assert ".part" not in body and "file.rename" not in body


@pytest.mark.parametrize("path", R_RECIPES, ids=lambda p: p.name)
def test_r_header(path: Path, functions) -> None:
    meta, body = split_header(path)
    recipe = meta["recipe"]
    assert set(recipe) <= {
        "constraint",
        "also",
        "language",
        "entry",
        "summary",
        "libraries",
        "parameters",
        "when",
        "uses",
        "covers",
        "cost",
        "step",
    }
    assert set(recipe.get("uses", [])) <= set(R_HELPERS)
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
    python = python_recipes()[recipe["constraint"], tuple(recipe.get("covers", []))]
    for key in ("covers", "cost", "step"):
        assert recipe.get(key) == python.get(key)
    assert recipe.get("also", []) == python.get("also", [])
    assert {k: v["from"] for k, v in params.items()} == {
        k: v["from"] for k, v in python["parameters"].items()
    }
    assert list(params) == list(python["parameters"])

    # Top-level functions only: the first named by entry, whose formals are the
    # parameters; the others (parts of it) prefixed with its name, so that no program
    # name collides with them.
    count, name, formals, names = functions[str(path)]
    assert count == len(names) and names[0] == name
    assert all(other.startswith(f"{name}_") for other in names[1:]), names
    assert name == recipe["entry"]
    assert re.fullmatch(r"[a-z][a-z0-9_]*", name)
    assert formals == list(params)

    # Base R only.
    assert not re.search(r"\b(library|require|requireNamespace)\s*\(", body)
    assert set(re.findall(r"\b(\w+):::?", body)) <= BASE_PACKAGES


def test_r_convert_to_csv_applies_to_one_tsv_csv_or_parquet_file_only() -> None:
    """JSON lines, ORC and directories are read by the python recipe."""
    meta, _ = split_header(RECIPES / "r" / "convert_to_csv.R")
    assert meta["recipe"]["when"] == {
        "engine": ["lake", "spark", "postgres"],
        "source.format": ["tsv", "csv", "parquet"],
        "source.layout": ["file"],
    }


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
        "uses": ["checked_columns"],
    }
    assert runtime["summary"] and "\n" not in runtime["summary"]
    count, name, formals, _ = functions[str(R_RUNTIME)]
    assert (count, name, formals) == (1, "run_sql", ["lake_path", "template", "..."])
    assert not re.search(r"\b(library|require|requireNamespace)\s*\(", body)
    assert set(re.findall(r"\b(\w+):::?", body)) <= BASE_PACKAGES


@pytest.mark.parametrize("name", sorted(R_HELPERS))
def test_r_helper_header(name: str) -> None:
    meta, body = split_header(R_HELPERS[name])
    helper = meta["helper"]
    assert set(meta) == {"helper"}
    assert set(helper) <= {"name", "language", "summary", "libraries", "program", "uses"}
    assert helper["name"] == name and helper["language"] == "r"
    assert helper["summary"] and "\n" not in helper["summary"]
    assert helper.get("libraries", []) == []
    # Only the runner is part of every program.
    assert helper.get("program", False) == (name == "run")
    assert not re.search(r"\b(library|require|requireNamespace)\s*\(", body)
    assert set(re.findall(r"\b(\w+):::?", body)) <= BASE_PACKAGES
    # Only function definitions at the top level, named after the helper's own
    # prefix where they could collide with a program's names.
    code = (
        f"exprs <- parse({r_literal(str(R_HELPERS[name]))}, keep.source = FALSE)\n"
        "for (e in exprs) {\n"
        '  stopifnot(identical(e[[1]], as.name("<-")),\n'
        '            identical(e[[3]][[1]], as.name("function")))\n'
        "  cat(as.character(e[[2]]), '\\n')\n"
        "}\n"
    )
    names = run_r(code).stdout.split()
    assert names and len(names) == len(set(names))
    if name == "run":
        assert all(n.startswith("run_") for n in names)


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
    # SQL cannot fail with a composed message: a table with contracts is converted by
    # the python recipe, which checks them.
    unchecked = {"columns.contracted": ["none"]} if name == "convert_to_parquet" else {}
    assert recipe["when"] == {"engine": ["lake"], "target.format": ["parquet"], **unchecked}
    params = recipe["parameters"]
    python = python_recipes()[constraint, ()]["parameters"]
    for spec in params.values():
        assert spec["sql"] in ("identifier", "literal", "lake_path", "struct")
        assert spec["from"] in {p["from"] for p in python.values()} | {"target.schema"}
    assert set(re.findall(r"(?<!\{)\{(\w+)\}(?!\})", body)) == set(params)


def test_lintr_reports_nothing(tmp_path) -> None:
    """Each file, after the helpers it uses (as a program defines them), lints clean."""
    files = []
    for path in [*R_FILES, *R_HELPERS.values()]:
        combined = tmp_path / f"{path.stem}.{path.parent.name}.R"
        texts = [p.read_text(encoding="utf-8") for p in [*used_helpers(path), path]]
        combined.write_text("\n".join(texts), encoding="utf-8")
        files.append(combined)
    listed = ", ".join(r_literal(str(p)) for p in files)
    code = (
        "suppressPackageStartupMessages(library(lintr))\n"
        f"for (path in c({listed})) {{\n"
        "  lints <- lint(path)\n"
        "  print(lints)\n"
        "  cat('lints', length(lints), path, '\\n')\n"
        "}\n"
    )
    out = run_r(code).stdout
    counts = re.findall(r"^lints (\d+) (.*) $", out, flags=re.M)
    assert sorted(path for _, path in counts) == sorted(str(p) for p in files)
    assert all(count == "0" for count, _ in counts), out


# ------------------------------------------------------------------------ download


def test_download_ok_and_idempotent(server, tmp_path) -> None:
    Handler.routes["/data"] = [(200, PAYLOAD, None)]
    destination = tmp_path / "sub" / "data.tsv"
    call_recipe(
        "download",
        url=server + "/data",
        destination=destination,
        sha256=sha(PAYLOAD),
        compression=None,
        source_format="tsv",
    )
    assert destination.read_bytes() == PAYLOAD
    assert Handler.hits["/data"] == 1
    assert Handler.agents == ["aorist"]
    key, source, fact = marker(destination)
    assert re.fullmatch(r"[0-9a-f]{64}", key) and source == ""
    assert fact == "sha256 " + hashlib.sha256(PAYLOAD).hexdigest()
    download(server + "/data", destination, sha(PAYLOAD).upper())
    assert Handler.hits["/data"] == 1
    assert listing(destination.parent) == ["data.tsv", "data.tsv.done"]
    # Another declaration (no digest) is another step: the file is fetched again.
    download(server + "/data", destination, None)
    assert Handler.hits["/data"] == 2
    assert marker(destination)[0] != key


def test_download_redownloads_a_file_without_marker(server, tmp_path) -> None:
    Handler.routes["/data"] = [(200, PAYLOAD, None)]
    destination = tmp_path / "data.tsv"
    destination.write_bytes(b"stale")
    download(server + "/data", destination, sha(PAYLOAD))
    assert destination.read_bytes() == PAYLOAD
    assert Handler.hits["/data"] == 1
    # A marker whose key is not the step's (another declaration made it) is not trusted.
    Path(f"{destination}.done").write_text("0" * 32 + "\n\n", encoding="utf-8")
    download(server + "/data", destination, sha(PAYLOAD))
    assert Handler.hits["/data"] == 2


def test_download_sha_mismatch(server, tmp_path) -> None:
    Handler.routes["/data"] = [(200, PAYLOAD, None)]
    destination = tmp_path / "data.tsv"
    wrong = "0" * 64
    url = server + "/data"
    message = r_error(download(url, destination, wrong, check=False))
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
    download(server + "/flaky", destination, None)
    assert destination.read_bytes() == PAYLOAD
    assert Handler.hits["/flaky"] == 3
    assert listing(tmp_path) == ["data.tsv", "data.tsv.done"]


def test_download_gives_up_after_five_tries(server, tmp_path) -> None:
    Handler.routes["/down"] = [(503, b"down", None)]
    message = r_error(download(server + "/down", tmp_path / "x", None, check=False))
    assert "503" in message and "5 attempt" in message
    assert Handler.hits["/down"] == 5
    assert os.listdir(tmp_path) == []


def test_download_client_error_fails_at_once(server, tmp_path) -> None:
    message = r_error(download(server + "/missing", tmp_path / "x", None, check=False))
    assert "404" in message
    assert Handler.hits["/missing"] == 1
    assert os.listdir(tmp_path) == []


def test_download_local_paths(tmp_path) -> None:
    source = tmp_path / "source file.bin"
    source.write_bytes(PAYLOAD)
    download(source, tmp_path / "plain", sha(PAYLOAD))
    download(source.as_uri(), tmp_path / "uri", None)
    assert (tmp_path / "plain").read_bytes() == PAYLOAD
    assert (tmp_path / "uri").read_bytes() == PAYLOAD
    message = r_error(download("ftp://host/x", tmp_path / "ftp", None, check=False))
    assert "unsupported URL scheme" in message


def broken_archives() -> dict[str, tuple[str, bytes]]:
    """Name -> (declared compression, bytes) of sources a download must refuse."""
    whole = b"".join(b"%d\t%d\n" % (i, i * 7919 % 10007) for i in range(20_000))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.tsv", whole)
    corrupt_zip = bytearray(zipped.getvalue())
    corrupt_zip[len(corrupt_zip) // 2] ^= 0xFF  # in the member: its CRC no longer matches
    corrupt_gzip = bytearray(gzip.compress(whole))
    corrupt_gzip[-5] ^= 0xFF
    return {
        "truncated_gzip": ("gzip", gzip.compress(whole)[:-12]),
        "corrupt_gzip": ("gzip", bytes(corrupt_gzip)),
        "truncated_bzip2": ("bz2", bz2.compress(whole)[:-100]),
        "truncated_zip": ("zip", zipped.getvalue()[:200]),
        "corrupt_zip": ("zip", bytes(corrupt_zip)),
        "plain_text_declared_gzip": ("gzip", whole),
    }


@pytest.mark.parametrize("case", sorted(broken_archives()))
def test_download_verifies_the_declared_compression(server, tmp_path, case) -> None:
    compression, body = broken_archives()[case]
    Handler.routes["/data"] = [(200, body, None)]
    url = server + "/data"
    message = r_error(download(url, tmp_path / "data", None, compression, check=False))
    assert url in message and "fix: " in message
    if case.startswith("plain"):
        assert "is not gzip-compressed" in message
    else:
        assert "is truncated or corrupt" in message
    # Nothing is left behind: no file, no part, no marker.
    assert os.listdir(tmp_path) == []
    # The same source, whole, is accepted.
    whole = {"gzip": gzip.compress, "bz2": bz2.compress}.get(compression)
    if whole is not None:
        Handler.routes["/data"] = [(200, whole(PAYLOAD), None)]
        download(url, tmp_path / "data", None, compression)
        assert marker(tmp_path / "data")[2].startswith("sha256 ")


def test_download_accepts_a_multi_member_gzip_and_a_zip(server, archives, tmp_path) -> None:
    for compression in ("gzip", "zip", "bz2"):
        Handler.routes[f"/{compression}"] = [(200, archives[compression].read_bytes(), None)]
        download(f"{server}/{compression}", tmp_path / compression, None, compression)
        assert (tmp_path / compression).read_bytes() == archives[compression].read_bytes()


def test_download_refuses_an_html_page(server, tmp_path) -> None:
    Handler.routes["/data"] = [(200, b"\n  <!DOCTYPE HTML><html>Sign in</html>", None)]
    message = r_error(download(server + "/data", tmp_path / "data", None, check=False))
    assert f"{server}/data sent an HTML page, not tsv data" in message
    assert "fix: check the source URL" in message
    assert os.listdir(tmp_path) == []


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
    assert listing(destination.parent) == ["data.tsv", "data.tsv.done"]
    assert marker(destination)[1] == str(archives[compression])
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
    assert "is not gzip-compressed" in message
    corrupt = bytearray(gzip.compress(PAYLOAD))
    corrupt[-5] ^= 0xFF  # the stored CRC no longer matches
    (tmp_path / "corrupt.gz").write_bytes(bytes(corrupt))
    message = r_error(
        call_recipe("decompress", tmp_path / "corrupt.gz", destination, "gzip", check=False)
    )
    assert "corrupt.gz is truncated or corrupt" in message
    # R's gzfile() reads a truncated stream without complaint: the step does not.
    (tmp_path / "cut.gz").write_bytes(gzip.compress(PAYLOAD * 50)[:-40])
    message = r_error(
        call_recipe("decompress", tmp_path / "cut.gz", destination, "gzip", check=False)
    )
    assert "cut.gz is truncated or corrupt" in message and "unexpected end of file" in message
    assert not destination.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".part", ".done"))]


def test_a_failed_step_distrusts_its_input_chain(tmp_path) -> None:
    """A bad input loses its marker and its own input's, up the chain; files stay."""
    source = tmp_path / "source.gz"
    source.write_bytes(gzip.compress(PAYLOAD)[:-12])
    download(source, tmp_path / "d", None)  # declared without compression: not checked
    chain = [tmp_path / "d"]
    for name in ("c", "b"):  # two files made from it, as decompress would mark them
        made = tmp_path / name
        made.write_bytes(b"x")
        Path(f"{made}.done").write_text(f"k\n{chain[-1]}\n", encoding="utf-8")
        chain.append(made)
    # A step reading b (through c and d) fails on it: every marker of the chain goes.
    message = r_error(call_recipe("decompress", chain[-1], tmp_path / "out", "gzip", check=False))
    assert "is not gzip-compressed" in message
    assert all(not Path(f"{p}.done").exists() for p in chain)
    assert all(p.exists() for p in chain) and not (tmp_path / "out").exists()


def test_a_changed_input_or_parameter_makes_the_file_again(archives, tmp_path) -> None:
    destination = tmp_path / "out"
    source = tmp_path / "in"
    source.write_bytes(HEADERED)
    Path(f"{source}.done").write_text("one\n\n", encoding="utf-8")
    columns = [["from", "BIGINT"], ["to", "BIGINT"]]
    call_recipe("remove_header", source, destination, 1, "tsv", TAB, columns)
    first = marker(destination)[0]
    call_recipe("remove_header", source, destination, 1, "tsv", TAB, columns)
    assert marker(destination)[0] == first
    # The input was made again (its marker changed): so is this file.
    source.write_bytes(HEADERED + b"\n5\t6")
    Path(f"{source}.done").write_text("two\n\n", encoding="utf-8")
    call_recipe("remove_header", source, destination, 1, "tsv", TAB, columns)
    assert destination.read_bytes() == b"from\tto\n1\t2\n3\t4\n5\t6"
    second = marker(destination)[0]
    assert second != first
    call_recipe("remove_header", source, destination, 2, "tsv", TAB, columns)
    assert destination.read_bytes() == b"1\t2\n3\t4\n5\t6"
    assert len({first, second, marker(destination)[0]}) == 3


def test_parts_are_unique_to_a_run_and_removed_on_failure(tmp_path) -> None:
    code = (
        f"source({r_literal(str(R_HELPERS['markers']))})\n"
        "parts <- replicate(50, unique_part('/x/out'))\n"
        "stopifnot(!anyDuplicated(parts))\n"
        "cat(parts[[1]], '\\n')\n"
        f"out <- {r_literal(str(tmp_path / 'out'))}\n"
        "seen <- NULL\n"
        "result <- tryCatch(produce(out, list('p'), NULL, function(part) {\n"
        "  seen <<- part\n"
        "  writeLines('half', part)\n"
        "  stop('boom')\n"
        "}), error = function(e) conditionMessage(e))\n"
        "cat(result, seen, file.exists(seen), '\\n')\n"
    )
    first, second = run_r(code).stdout.splitlines()
    assert re.fullmatch(r"/x/out\.\d+-[0-9a-f]{8}\.part ", first)
    message, part, exists = second.split()
    assert message == "boom" and part.startswith(str(tmp_path / "out.")) and exists == "FALSE"
    assert os.listdir(tmp_path) == []


def test_helpers_leave_no_connection_open(tmp_path) -> None:
    """R has 128 connections: a helper leaking one per call stops a large program."""
    made = tmp_path / "made"
    code = (
        "".join(f"source({r_literal(str(p))})\n" for p in R_HELPERS.values())
        + f"made <- {r_literal(str(made))}\n"
        "produce(made, list('p'), NULL, function(part) writeLines('x', part))\n"
        "for (i in 1:200) {\n"
        "  marker_text(file.path(tempdir(), 'missing'))\n"
        "  marker_text(made)\n"
        "  produce(made, list('p'), NULL, function(part) stop('not run'))\n"
        "  file_kind(made)\n"
        "  invalidate(file.path(tempdir(), 'missing'))\n"
        "}\n"
        "invisible(run_lock_holder(file.path(tempdir(), 'no lock')))\n"
        "cat(nrow(showConnections(all = TRUE)), '\\n')\n"
    )
    assert run_r(code).stdout.split() == ["3"]  # stdin, stdout and stderr


# ------------------------------------------------------------------- remove header

HEADERED = b"# comment\r\nfrom\tto\n1\t2\n3\t4"
# Each source format's [delimiter, quote], as the `source.dialect` fact gives them.
TAB = ["\t", ""]
PLAIN = [",", '"']
DIALECTS = {"tsv": TAB, "csv": PLAIN}
EDGE_COLUMNS = [["from", "BIGINT"], ["to", "BIGINT"]]


@pytest.mark.parametrize("lines,expected", [(0, HEADERED), (2, b"1\t2\n3\t4"), (9, b"")])
def test_remove_header(tmp_path, lines, expected) -> None:
    source = tmp_path / "in"
    source.write_bytes(HEADERED)
    destination = tmp_path / "sub" / "out"
    call_recipe(
        "remove_header",
        source=source,
        destination=destination,
        num_lines=lines,
        source_format="tsv",
        dialect=TAB,
        columns=EDGE_COLUMNS,
    )
    assert destination.read_bytes() == expected
    assert listing(destination.parent) == ["out", "out.done"]
    call_recipe("remove_header", source, destination, lines, "tsv", TAB, EDGE_COLUMNS)
    assert destination.read_bytes() == expected
    # A changed header count makes the file again: it is not trusted for another one.
    call_recipe("remove_header", source, destination, 0, "tsv", TAB, EDGE_COLUMNS)
    assert destination.read_bytes() == HEADERED


def test_remove_header_streams_across_chunks(tmp_path) -> None:
    # Lines longer than R's 1 MiB read chunk: the header ends in a later chunk.
    header = b"h" * (1 << 20) + b"\n" + b"i" * 700_000 + b"\n"
    body = b"x" * (1 << 20) + b"\nlast"
    source = tmp_path / "in"
    source.write_bytes(header + body)
    call_recipe("remove_header", source, tmp_path / "out", 2, "tsv", TAB, EDGE_COLUMNS)
    assert (tmp_path / "out").read_bytes() == body


@pytest.mark.parametrize("source_format,body", [("tsv", b"1\t2\n3\t4\n"), ("csv", b"1,2\n3,4\n")])
def test_remove_header_reports_data_in_the_header(tmp_path, source_format, body) -> None:
    source = tmp_path / "in"
    source.write_bytes(body)
    result = call_recipe(
        "remove_header",
        source,
        tmp_path / "out",
        1,
        source_format,
        DIALECTS[source_format],
        EDGE_COLUMNS,
    )
    first = body.split(b"\n")[0].decode()
    shown = first.replace("\t", "\\t")  # as R's deparse() shows it
    assert (
        f"warning: {source}: 1 of the 1 header line(s) removed read as data rows, "
        f'e.g. "{shown}"; fix: if the source has no header, declare header=None'
    ) in result.stderr
    assert (tmp_path / "out").read_bytes() == body[len(first) + 1 :]
    # A real header says nothing.
    source.write_bytes(b"from\tto\n" + body)
    quiet = call_recipe(
        "remove_header",
        source,
        tmp_path / "o2",
        1,
        source_format,
        DIALECTS[source_format],
        EDGE_COLUMNS,
    )
    assert "warning" not in quiet.stderr


@pytest.mark.parametrize("bad", ["x", -1, 1.5, True])
def test_remove_header_rejects_bad_counts(tmp_path, bad) -> None:
    source = tmp_path / "in"
    source.write_bytes(HEADERED)
    message = r_error(
        call_recipe("remove_header", source, tmp_path / "out", bad, "tsv", TAB, [], check=False)
    )
    assert "num_lines must be a non-negative integer" in message
    assert os.listdir(tmp_path) == ["in"]


@pytest.mark.parametrize(
    "name,args",
    [
        ("remove_header", [1, "tsv", TAB, EDGE_COLUMNS]),
        ("convert_to_csv", ["tsv", TAB, ["from", "to"], 0, None]),
        ("store_in_lake", []),
    ],
)
@pytest.mark.parametrize(
    "content,found,fix",
    [
        (gzip.compress(b"1\t2\n"), "gzip-compressed", "declare compression=GzipCompression()"),
        (bz2.compress(b"1\t2\n"), "bzip2-compressed", "declare compression=BZip2Compression()"),
        (b"PK\x03\x04rest", "a zip archive", "declare compression=ZipCompression()"),
        (b" \n<HTML><body>", "an HTML page", "check the source URL"),
    ],
    ids=["gzip", "bzip2", "zip", "html"],
)
def test_steps_reading_text_refuse_what_is_not_text(tmp_path, name, args, content, found, fix):
    source = tmp_path / "in"
    source.write_bytes(content)
    Path(f"{source}.done").write_text("k\n\n", encoding="utf-8")
    if name == "store_in_lake":
        args = [tmp_path / "lake", "out.csv"]
    else:
        args = [tmp_path / "out", *args]
    message = r_error(call_recipe(name, source, *args, check=False))
    assert f"{source} is {found}, but the source is declared as uncompressed " in message
    assert f"; fix: {fix}" in message
    # The input is distrusted: a fixed declaration or source makes it again.
    assert not Path(f"{source}.done").exists()


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
        dialect=TAB,
        columns=["id", "name"],
        header_lines=0,
        source_names=None,
    )
    assert destination.read_bytes() == b'1,"a,b"\n2,"say ""hi"""\n3,\n'
    destination.write_bytes(b"kept")
    call_recipe("convert_to_csv", source, destination, "tsv", TAB, ["id", "name"], 0, None)
    assert destination.read_bytes() == b"kept"
    # Other columns are another step.
    call_recipe("convert_to_csv", source, destination, "tsv", TAB, ["id", "label"], 0, None)
    assert destination.read_bytes() == b'1,"a,b"\n2,"say ""hi"""\n3,\n'


@pytest.mark.parametrize(
    "body,dialect,expected",
    [
        (
            b'1;"a;b"\n2;"say ""hi"""\n3;"x\ny"\n4;\n',
            [";", '"'],
            b'1,a;b\n2,"say ""hi"""\n3,"x\ny"\n4,\n',
        ),
        (b"1|'a|b'\n2|'it''s'\n", ["|", "'"], b"1,a|b\n2,it's\n"),
        (b'1|"a,b"\n2|"\n', ["|", ""], b'1,"""a,b"""\n2,""""\n'),
    ],
    ids=["semicolons", "single quotes", "no quoting"],
)
def test_convert_csv_of_another_dialect_as_python_does(tmp_path, body, dialect, expected) -> None:
    """The duckdb program rewrites it; the python recipe (csv module) writes the same."""
    source = tmp_path / "in.csv"
    source.write_bytes(body)
    call_recipe("convert_to_csv", source, tmp_path / "r.csv", "csv", dialect, ["a", "b"], 0, None)
    assert (tmp_path / "r.csv").read_bytes() == expected
    namespace: dict = {}
    for python in (
        "runtime/python/markers.py",
        "runtime/python/header_lines.py",
        "runtime/python/as_csv.py",
    ):
        exec((RECIPES / python).read_text(encoding="utf-8"), namespace)  # noqa: S102
    exec((RECIPES / "python/convert_to_csv.py").read_text(encoding="utf-8"), namespace)  # noqa: S102
    namespace["convert_to_csv"](
        str(source), str(tmp_path / "py.csv"), "csv", dialect, ["a", "b"], 0, None
    )
    assert (tmp_path / "py.csv").read_bytes() == expected
    # A line with other fields is named.
    source.write_bytes(body + b"1" + dialect[0].encode() + b"2" + dialect[0].encode() + b"3\n")
    message = r_error(
        call_recipe(
            "convert_to_csv",
            source,
            tmp_path / "bad.csv",
            "csv",
            dialect,
            ["a", "b"],
            0,
            None,
            check=False,
        )
    )
    assert f"expected 2 '{dialect[0]}'-separated fields, found 3" in message


def test_convert_tsv_matches_python(tmp_path) -> None:
    source = tmp_path / "in.tsv"
    lines = [b"\xef\xbb\xbfid\tname\tnote", b'1\t\xc3\xa9\xe2\x82\xac\t"quoted"', b"\t\t"]
    lines += [f"{i}\tname {i}\tnote, {i}".encode() for i in range(25_000)]
    source.write_bytes(b"\n".join(lines) + b"\n\n7\tno\tfinal newline")
    namespace: dict = {}
    for python in (
        RECIPES / "runtime" / "python" / "markers.py",
        RECIPES / "runtime" / "python" / "header_lines.py",
        RECIPES / "runtime" / "python" / "as_csv.py",
        RECIPES / "python" / "convert_to_csv.py",
    ):
        exec(python.read_text(encoding="utf-8"), namespace)  # noqa: S102 - recipes run as pasted
    columns = ["id", "name", "note"]
    namespace["convert_to_csv"](str(source), str(tmp_path / "py.csv"), "tsv", TAB, columns, 0, None)
    env = {**os.environ, "LC_ALL": "C"}  # bytes pass through in any locale
    sources = [R_HELPERS["markers"], RECIPES / "r" / "convert_to_csv.R"]
    result = subprocess.run(
        [
            "Rscript",
            "--vanilla",
            "-e",
            "".join(f"source({r_literal(str(p))}); " for p in sources)
            + f"convert_to_csv({r_literal(str(source))}, "
            f"{r_literal(str(tmp_path / 'r.csv'))}, 'tsv', {r_literal(TAB)}, "
            f"{r_literal(columns)}, 0, NULL)",
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
        call_recipe(
            "convert_to_csv",
            source,
            tmp_path / "out.csv",
            "tsv",
            TAB,
            ["a", "b"],
            0,
            None,
            check=False,
        )
    )
    assert f"{source}:2: expected 2 tab-separated fields, found 1" in message
    assert os.listdir(tmp_path) == ["in.tsv"]


def test_convert_csv_copies(tmp_path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"1,2\n")
    call_recipe(
        "convert_to_csv", source, tmp_path / "sub" / "out.csv", "csv", PLAIN, ["a", "b"], 0, None
    )
    assert (tmp_path / "sub" / "out.csv").read_bytes() == b"1,2\n"


def test_convert_jsonl_and_unknown_formats_fail(tmp_path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"a": 1}\n', encoding="utf-8")
    message = r_error(
        call_recipe(
            "convert_to_csv",
            source,
            tmp_path / "out.csv",
            "jsonl",
            None,
            ["a"],
            0,
            None,
            check=False,
        )
    )
    assert "does not handle JSON lines" in message
    message = r_error(
        call_recipe(
            "convert_to_csv", source, tmp_path / "out.csv", "xml", None, ["a"], 0, None, check=False
        )
    )
    assert "unknown source format 'xml'" in message
    assert os.listdir(tmp_path) == ["in.jsonl"]


# ------------------------------------------------------------------- store in lake


def test_store_in_lake(tmp_path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"1,2\n")
    lake = tmp_path / "lake"
    call_recipe("store_in_lake", source=source, lake_path=lake, destination="_staging/d/a.csv")
    staged = lake / "_staging" / "d" / "a.csv"
    assert staged.read_bytes() == b"1,2\n"
    assert marker(staged)[1] == str(source)
    source.write_bytes(b"changed\n")
    call_recipe("store_in_lake", source, lake, "_staging/d/a.csv")
    assert staged.read_bytes() == b"1,2\n"
    assert listing(staged.parent) == ["a.csv", "a.csv.done"]
    # The input's marker changed (it was made again): so is the staged file.
    Path(f"{source}.done").write_text("new\n\n", encoding="utf-8")
    call_recipe("store_in_lake", source, lake, "_staging/d/a.csv")
    assert staged.read_bytes() == b"changed\n"


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
        "".join(f"source({r_literal(str(p))}); " for p in used_helpers(R_RUNTIME))
        + f"source({r_literal(str(R_RUNTIME))}); "
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


def checked(columns: list[list[str]], nullable: bool = True) -> list[list[object]]:
    """The `checked` parameter of create_temporary_table for (name, type) columns."""
    return [[name, kind, nullable] for name, kind in columns]


def create_view(lake: Path, table: list[str], staged: str, columns, header_lines=1, **kw):
    """Run create_temporary_table.sql through the R runtime, as R programs do."""
    return run_sql(
        lake,
        sql_template("create_temporary_table"),
        schema=table[:1],
        table=table,
        file=staged,
        text_columns=[[name, "VARCHAR"] for name, *_ in columns],
        columns=columns,
        dataset="d",
        asset="a",
        header_lines=header_lines,
        **kw,
    )


def staging_views(lake: Path) -> list[tuple]:
    return query(lake, "SELECT view_name FROM duckdb_views() WHERE schema_name = '_staging'")


def test_lake_end_to_end(server, tmp_path) -> None:
    """download -> decompress -> remove_header -> convert_to_csv -> store_in_lake (R),
    create_temporary_table (SQL, run by the R runtime), convert_to_target and
    publish_table (R, through the duckdb program), drop_temporary_table (SQL),
    check_table (R); the lake is read back from Python. Run again, every step that
    writes a file or a table finds its work done."""
    lake = tmp_path / "my 'lake'"
    payload = gzip.compress(TSV.encode())
    Handler.routes["/data.tsv.gz"] = [(200, payload, None)]
    work = tmp_path / "tmp"
    staging_file = "_staging/test/my_table.csv"
    staging_table = ["_staging", 'test__my "table"']
    target_file = "test/my_table/my_table.parquet"
    names = [n for n, _ in COLUMNS]

    def run_all() -> None:
        download(server + "/data.tsv.gz", work / "d.a.download", sha(payload), "gzip")
        call_recipe("decompress", work / "d.a.download", work / "d.a.decompressed", "gzip")
        call_recipe(
            "remove_header", work / "d.a.decompressed", work / "d.a.body", 1, "tsv", TAB, COLUMNS
        )
        call_recipe(
            "convert_to_csv", work / "d.a.body", work / "d.a.csv", "tsv", TAB, names, 0, None
        )
        call_recipe("store_in_lake", work / "d.a.csv", lake, staging_file)
        create_view(lake, staging_table, staging_file, checked(COLUMNS))
        call_recipe(
            "convert_to_target", lake, staging_table, target_file, "parquet", staging_file, []
        )
        call_recipe("publish_table", lake, target_file, "parquet", ["test", "my_table"])
        run_sql(lake, sql_template("drop_temporary_table"), table=staging_table)

    run_all()
    assert Handler.hits["/data.tsv.gz"] == 1
    assert sorted_rows(query(lake, 'SELECT * FROM "test"."my_table"')) == sorted_rows(ROWS)
    types = query(
        lake,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'test' AND table_name = 'my_table' ORDER BY ordinal_position",
    )
    assert [list(t) for t in types] == COLUMNS
    assert staging_views(lake) == []
    # Each file's marker names the file it was made from.
    assert marker(lake / target_file)[1] == str(lake / staging_file)
    assert marker(lake / staging_file)[1] == str(work / "d.a.csv")
    assert listing(lake / "test" / "my_table") == ["my_table.parquet", "my_table.parquet.done"]
    published = query(lake, "SELECT * FROM _aorist.published")
    files = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}

    run_all()
    assert Handler.hits["/data.tsv.gz"] == 1
    again = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert {p.name for p in files if files[p] != again.get(p)} <= {"lake.duckdb"}
    assert query(lake, "SELECT * FROM _aorist.published") == published

    result = call_recipe("check_table", lake_path=lake, table=["test", "my_table"], columns=names)
    assert result.stdout == "test.my_table: 4 rows, columns id, name, score, day\n"
    message = r_error(
        call_recipe("check_table", lake, ["test", "my_table"], names[:3], check=False)
    )
    assert "has columns [id, name, score, day], expected [id, name, score]" in message
    message = r_error(call_recipe("check_table", lake, ["test", "nope"], names, check=False))
    assert "test.nope has columns [], expected" in message


def test_sql_convert_and_publish_recipes(tmp_path) -> None:
    """convert_to_parquet.sql and publish_table.sql, run by the R runtime."""
    lake = tmp_path / "lake"
    staged = "_staging/t.csv"
    (lake / "_staging").mkdir(parents=True)
    (lake / staged).write_text("1,plain,1.5,2020-01-02\n", encoding="utf-8")
    staging_table = ["_staging", "t"]
    create_view(lake, staging_table, staged, checked(COLUMNS))
    # The target directory does not exist yet: the runtime creates it.
    target_file = "test/t/t.parquet"
    convert = sql_template("convert_to_parquet")
    run_sql(lake, convert, table=staging_table, destination=target_file)
    run_sql(lake, convert, table=staging_table, destination=target_file)
    assert os.listdir(lake / "test" / "t") == ["t.parquet"]
    publish = sql_template("publish_table")
    target = {"schema": ["test"], "table": ["test", "t"], "source": target_file}
    run_sql(lake, publish, **target)
    run_sql(lake, publish, **target)
    assert query(lake, "SELECT * FROM test.t") == [ROWS[0]]


# ------------------------------------------------------------ schema enforcement


def python_checked_sql(template: str, **params: object) -> str:
    """The SQL Python's run_sql.py runs for template (its engine replaced by a recorder)."""
    namespace: dict = {"__name__": "run_sql_py"}
    # Helpers first, as in a program.
    for name in ("markers", "lake_lock", "checked_columns", "run_sql"):
        code = (RECIPES / "runtime" / "python" / f"{name}.py").read_text(encoding="utf-8")
        exec(compile(code, f"{name}.py", "exec"), namespace)  # noqa: S102 - runtime as pasted
    seen: list[str] = []

    class Connection:
        def execute(self, sql: str):
            seen.append(sql)
            return self

        def fetchall(self) -> list:
            return []

        def close(self) -> None:
            pass

    namespace["duckdb"] = type(
        "Engine", (), {"connect": staticmethod(lambda *a, **k: Connection())}
    )
    namespace["run_sql"]("/lake", template, **params)
    return seen[0]


def r_checked_sql(tmp_path: Path, template: str, **params: object) -> str:
    """The SQL run_sql.R hands the duckdb program (a stand-in on PATH records it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    recorded = tmp_path / "recorded.sql"
    fake = bin_dir / "duckdb"
    fake.write_text(
        '#!/bin/sh\nwhile [ "$1" != "-f" ]; do shift; done\n'
        f'cat "$2" > {shlex.quote(str(recorded))}\n',
        encoding="utf-8",
    )
    fake.chmod(0o755)
    values = ", ".join(f"{k} = {r_literal(v)}" for k, v in params.items())
    code = (
        f'Sys.setenv(PATH = paste({r_literal(str(bin_dir))}, Sys.getenv("PATH"), sep = ":"))\n'
        + "".join(f"source({r_literal(str(p))})\n" for p in used_helpers(R_RUNTIME))
        + f"source({r_literal(str(R_RUNTIME))})\n"
        f"run_sql({r_literal(str(tmp_path / 'lake'))}, {r_literal(template)}, {values})\n"
    )
    run_r(code)
    # writeLines() ends the script with a newline.
    return recorded.read_text(encoding="utf-8").removesuffix("\n")


def test_checked_role_is_the_sql_python_runs(tmp_path) -> None:
    """run_sql.R renders `checked` exactly as recipes/runtime/python/run_sql.py does."""
    columns = [
        ["id", "BIGINT", False],
        ['we"ird name', "VARCHAR", True],
        ["score", "DOUBLE", True],
        ["day", "DATE", False],
        ["flag", "BOOLEAN", True],
    ]
    template = "SELECT {columns:checked} FROM staged;"
    python = python_checked_sql(template, columns=columns)
    assert "CASE WHEN" in python
    assert r_checked_sql(tmp_path, template, columns=columns) == python


SCHEMA_CASES = {
    "fraction_in_integer": (
        "1,2\n3,3.5\n",
        "d.a: column \"to_id\", line 3: '3.5' is not a whole number (BIGINT)",
    ),
    "null_in_non_nullable": (
        "1,2\n,4\n",
        'd.a: column "from_id", line 3: empty value in a non-nullable column',
    ),
    "text_in_integer": ("1,2\nx,4\n", "d.a: column \"from_id\", line 3: 'x' is not a whole number"),
}


@pytest.mark.parametrize("case", sorted(SCHEMA_CASES))
def test_convert_to_target_enforces_the_schema(tmp_path, case) -> None:
    """A value that breaks the schema fails the step: no file, no view, the chain distrusted."""
    body, message = SCHEMA_CASES[case]
    lake = tmp_path / "lake"
    staged = lake / "_staging" / "a.csv"
    staged.parent.mkdir(parents=True)
    staged.write_text(body, encoding="utf-8")
    upstream = tmp_path / "a.download"
    upstream.write_text("x", encoding="utf-8")
    Path(f"{upstream}.done").write_text("k\n\n", encoding="utf-8")
    Path(f"{staged}.done").write_text(f"k\n{upstream}\n", encoding="utf-8")
    table = ["_staging", "d.a"]
    edge = [["from_id", "BIGINT", False], ["to_id", "BIGINT", False]]
    create_view(lake, table, "_staging/a.csv", edge)
    failed = call_recipe(
        "convert_to_target",
        lake,
        table,
        "d/a.parquet",
        "parquet",
        "_staging/a.csv",
        [],
        check=False,
    )
    error = r_error(failed)
    assert message in error and "Invalid Input Error" not in error
    assert staging_views(lake) == []
    assert not (lake / "d" / "a.parquet").exists() and not list((lake / "d").glob("*"))
    assert not Path(f"{staged}.done").exists() and not Path(f"{upstream}.done").exists()


def test_convert_to_target_explains_a_file_it_cannot_read(tmp_path) -> None:
    lake = tmp_path / "lake"
    staged = lake / "_staging" / "a.csv"
    staged.parent.mkdir(parents=True)
    staged.write_text("1,2,3\n4,5,6\n", encoding="utf-8")
    table = ["_staging", "d.a"]
    create_view(
        lake, table, "_staging/a.csv", [["from_id", "BIGINT", False], ["to_id", "BIGINT", False]]
    )
    error = r_error(
        call_recipe(
            "convert_to_target",
            lake,
            table,
            "d/a.parquet",
            "parquet",
            "_staging/a.csv",
            [],
            check=False,
        )
    )
    assert (
        f"could not read the staged file {staged} as header-less CSV with 2 columns "
        '(from_id, to_id): its first line is "1,2,3\\n", 3 comma-separated field(s); '
        "fix: check the source's declared encoding"
    ) in error
    assert "Expected Number of Columns: 2 Found: 3" in error
    assert staging_views(lake) == []


def test_convert_to_target_writes_parquet_only(tmp_path) -> None:
    error = r_error(
        call_recipe("convert_to_target", tmp_path, ["v"], "a.orc", "orc", "a.csv", [], check=False)
    )
    assert "unknown target format 'orc'" in error
    error = r_error(call_recipe("publish_table", tmp_path, "a.orc", "orc", ["s", "t"], check=False))
    assert "unknown source format 'orc'" in error


def test_publish_table_replaces_a_table_only_for_a_new_file(tmp_path) -> None:
    lake = tmp_path / "lake"
    target = lake / "t" / "t.parquet"
    target.parent.mkdir(parents=True)

    def make(rows: int, version: str) -> None:
        con = duckdb.connect()
        try:
            con.execute(
                f"COPY (SELECT range AS i FROM range({rows})) TO '{target}' (FORMAT parquet)"
            ).fetchall()
        finally:
            con.close()
        Path(f"{target}.done").write_text(f"{version}\n\n", encoding="utf-8")

    make(3, "one")
    call_recipe("publish_table", lake, "t/t.parquet", "parquet", ["s", "t"])
    assert query(lake, "SELECT count(*) FROM s.t") == [(3,)]
    (version,) = query(lake, "SELECT version FROM _aorist.published")[0]
    # The table is a view over its file: the lake holds its rows once.
    kind = "SELECT table_type FROM information_schema.tables WHERE table_name = 't'"
    assert query(lake, kind) == [("VIEW",)]
    # The same file again (its marker unchanged): nothing is republished.
    make(5, "one")
    call_recipe("publish_table", lake, "t/t.parquet", "parquet", ["s", "t"])
    assert query(lake, "SELECT version FROM _aorist.published")[0][0] == version
    # A file made again (its marker changed): the view is replaced, the record too.
    make(5, "two")
    call_recipe("publish_table", lake, "t/t.parquet", "parquet", ["s", "t"])
    assert query(lake, "SELECT count(*) FROM s.t") == [(5,)]
    assert query(lake, "SELECT table_schema, table_name FROM _aorist.published") == [("s", "t")]
    (replaced,) = query(lake, "SELECT version FROM _aorist.published")[0]
    assert replaced != version
    # A broken file fails in the transaction: the record stays.
    target.write_bytes(b"not parquet")
    Path(f"{target}.done").write_text("three\n\n", encoding="utf-8")
    error = r_error(
        call_recipe("publish_table", lake, "t/t.parquet", "parquet", ["s", "t"], check=False)
    )
    assert "t.parquet" in error
    assert query(lake, "SELECT version FROM _aorist.published")[0][0] == replaced
    assert query(lake, kind) == [("VIEW",)]


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


def test_r_version_parts_are_kept_apart_and_cover_the_recipe_code() -> None:
    """The R step key: sha256 over length-prefixed parts and the running recipe's code."""
    code = (
        f"source({r_literal(str(R_HELPERS['markers']))})\n"
        "keys <- c(\n"
        '  step_key(list("a,b", "c")), step_key(list("a", "b,c")),\n'
        '  step_key(list("a\\n", "b")), step_key(list("a", "\\nb")),\n'
        '  step_key(list("ab", list("c"))), step_key(list("ab", "c")),\n'
        '  step_key(list(NULL)), step_key(list("N")),\n'
        '  step_key(list(1L)), step_key(list("1"))\n'
        ")\n"
        "task <- markers_task()\n"
        'task$code <- code_version(function() "edited")\n'
        'keys <- c(keys, step_key(list("a,b", "c")))\n'
        "cat(keys, sep = '\\n')\n"
    )
    keys = run_r(code).stdout.split()
    assert len(keys) == 11 and all(re.fullmatch(r"[0-9a-f]{64}", k) for k in keys), keys
    assert len(set(keys)) == 11, keys


def test_r_checks_contracts_with_the_python_helper_s_words(tmp_path) -> None:
    """contracts.R builds the same one-pass query and the same message as the python
    helper: one file with every contract broken, checked by both."""
    path = tmp_path / "rows.parquet"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT * FROM (VALUES (-1, 'z', 'ab', 2.5), (-1, 'a', 'it''s', 0.5),"
        ' (3, NULL, NULL, NULL)) AS t("id", "k""ind", "code", "w"))'
        f" TO '{path}' (FORMAT parquet)"
    )
    contracts = [
        ["id", "min", 0, "min=0"],
        ["id", "unique", True, "unique=true"],
        ['k"ind', "accepted_values", ["a", "b"], 'accepted_values=["a","b"]'],
        ["code", "regex", "[A-Z]{2}", 'regex="[A-Z]{2}"'],
        ["w", "max", 1.0, "max=1.0"],
    ]
    relation = f"read_parquet('{path}')"
    namespace: dict = {}
    code = (RECIPES / "runtime" / "python" / "contracts.py").read_text(encoding="utf-8")
    exec(compile(code, "contracts.py", "exec"), namespace)  # noqa: S102 - runtime as pasted
    with pytest.raises(ValueError) as raised:
        namespace["check_contracts"](
            lambda query: con.execute(query).fetchall(), relation, "g.t", contracts
        )
    said = str(raised.value)
    assert said.startswith("g.t: column \"id\": 2 rows break min=0 (examples: '-1'); "), said
    assert 'column "k""ind": 1 row breaks' in said and "'it''s'" not in said, said
    helpers = [R_HELPERS["duckdb_cli"], R_HELPERS["contracts"]]
    result = call_r_after(
        helpers, R_HELPERS["contracts"], "check_contracts", relation, "g.t", contracts,
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert said in result.stderr, result.stderr
    # Rows that hold every contract (NULLs included) pass in both.
    holding = [["code", "regex", "[a-z']+", 'regex="[a-z\']+"']]
    namespace["check_contracts"](
        lambda query: con.execute(query).fetchall(), relation, "g.t", holding
    )
    passed = call_r_after(
        helpers, R_HELPERS["contracts"], "check_contracts", relation, "g.t", holding
    )
    assert passed.returncode == 0, passed.stderr
