"""Free text from declarations reaches generated code only as data.

Descriptions, comments, tags and URLs full of quotes, newlines, braces, backslashes and
SQL must neither break the generated script nor change what it does.
"""

from __future__ import annotations

import io
import re
import tokenize
import urllib.parse

import duckdb
import pytest

from aorist import (
    CSVEncoding,
    CSVHeader,
    DataSet,
    GzipCompression,
    HiveTableStorage,
    IdentifierTuple,
    MinioLocation,
    NumericIdentifier,
    ORCEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    StaticDataTable,
    TSVEncoding,
    Universe,
    WebLocation,
    dag,
    default_tabular_schema,
)

from conftest import CONSTRAINTS, lake_columns, lake_db, lake_query, lake_tables, run_generated
from fixtures_data import edge_sums, snap_like_gz

HOSTILE = [
    "it's",
    'say "hi"',
    'triple """ double',
    "triple ''' single",
    "line one\nline two\r\nline three",
    "# not a comment",
    "{}",
    "{0} and {name} and {{x}}",
    "back\\slash \\n \\x00 \\",
    "ends with a backslash \\",
    "'; DROP TABLE x; --",
    '"); DROP TABLE x; --',
    "$(rm -rf /tmp/nothing) `true` %s %(x)s",
    "tab\there, unicode é ☃",
]
HOSTILE_TEXT = " | ".join(HOSTILE)
SHORT_HOSTILE = "'''\"\"\"\n#{}\\"
EXTRA_SQL = "\n'; DROP TABLE hostile.edges; --"
# On disk: weird'name"{0} x.tsv.gz; in the URL every unusual character is percent-encoded.
SERVED_NAME = "weird'name\"{0} x.tsv.gz"
URL_PATH = "weird%27name%22%7B0%7D%20x.tsv.gz"


def hostile_universe(
    base: str, text: str = HOSTILE_TEXT, short: str = SHORT_HOSTILE, extra: str = EXTRA_SQL
) -> Universe:
    """One gzipped edge list whose free-text fields are ``text`` (``short`` for one attribute,
    ``text + extra`` for the asset's comment)."""
    edge = IdentifierTuple(
        name="edge",
        attributes=[
            NumericIdentifier("from_id", comment=text),
            NumericIdentifier("to_id", comment=short),
        ],
    )
    remote = RemoteStorage(
        location=WebLocation(address=f"{base}/{URL_PATH}"),
        encoding=TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=4)),
    )
    table = StaticDataTable(
        name="edges",
        schema=default_tabular_schema(edge),
        setup=RemoteStorageSetup(remote=remote),
        tag=text,
        comment=text + extra,
    )
    data = DataSet(name="hostile", description=text, datum_templates=[edge], assets=[table])
    data = data.replicate_to_local(
        HiveTableStorage(location=MinioLocation(name="hostile"), encoding=ORCEncoding()),
        "tmp/hostile",
        CSVEncoding(),
    )
    return Universe(name="hostile_universe", datasets=[data])


def test_hostile_text_is_inert(http_server, tmp_path):
    n_edges = snap_like_gz(http_server.root / SERVED_NAME, 40)
    code = dag(hostile_universe(http_server.base_url), CONSTRAINTS, "python")
    compile(code, "main.py", "exec")

    # A table the SQL in the comments would drop if it were ever executed.
    lake_db(tmp_path).parent.mkdir(parents=True)
    with duckdb.connect(str(lake_db(tmp_path))) as con:
        con.execute("CREATE TABLE main.x AS SELECT 42 AS answer")

    run_generated(code, tmp_path)

    assert lake_tables(tmp_path) == {"hostile.edges": n_edges, "main.x": 1}
    assert lake_query(tmp_path, "SELECT answer FROM main.x") == [(42,)]
    assert lake_columns(tmp_path, "hostile.edges") == [("from_id", "BIGINT"), ("to_id", "BIGINT")]
    assert tuple(
        lake_query(tmp_path, "SELECT sum(from_id), sum(to_id) FROM hostile.edges")[0]
    ) == edge_sums(n_edges)
    assert any(urllib.parse.unquote(path) == f"/{SERVED_NAME}" for path in http_server.requests), (
        http_server.requests
    )


def _code_names(code: str) -> set[str]:
    """The NAME tokens of the code: what it does, as opposed to the data it carries."""
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    return {token.string for token in tokens if token.type == tokenize.NAME}


def test_hostile_text_never_becomes_code():
    """Compared with the same universe declared with plain text, the hostile one's code uses
    no new names taken from the hostile text (no escaped DROP, TABLE, rm, ...)."""
    base = "http://127.0.0.1:9/data"
    hostile = dag(hostile_universe(base), CONSTRAINTS, "python")
    plain = dag(
        hostile_universe(base, text="plain words", short="plain", extra=""), CONSTRAINTS, "python"
    )
    hostile_words = set(
        re.findall(r"[A-Za-z_][A-Za-z0-9_]*", HOSTILE_TEXT + SHORT_HOSTILE + EXTRA_SQL)
    )
    leaked = (_code_names(hostile) - _code_names(plain)) & hostile_words
    assert not leaked, f"words of the declarations became code: {sorted(leaked)}"


@pytest.mark.parametrize("text", HOSTILE)
def test_each_hostile_description_generates_valid_code(text):
    edge = IdentifierTuple(
        name="edge",
        attributes=[NumericIdentifier("from_id", comment=text), NumericIdentifier("to_id")],
    )
    remote = RemoteStorage(
        location=WebLocation(address=f"http://127.0.0.1:9/data/{URL_PATH}"),
        encoding=TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=4)),
    )
    table = StaticDataTable(
        name="edges",
        schema=default_tabular_schema(edge),
        setup=RemoteStorageSetup(remote=remote),
        comment=text,
    )
    data = DataSet(
        name="hostile", description=text, datum_templates=[edge], assets=[table]
    ).replicate_to_local(
        HiveTableStorage(location=MinioLocation(name="hostile"), encoding=ORCEncoding()),
        "tmp/hostile",
        CSVEncoding(),
    )
    code = dag(Universe(name="u", datasets=[data]), CONSTRAINTS, "python")
    compile(code, "main.py", "exec")
