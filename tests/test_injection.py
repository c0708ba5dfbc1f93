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


@pytest.mark.parametrize("dialect", ["python", "airflow", "dagster", "prefect", "hamilton"])
def test_hostile_text_never_becomes_code(dialect):
    """Compared with the same universe declared with plain text, the hostile one's code uses
    no new names taken from the hostile text (no escaped DROP, TABLE, rm, ...)."""
    base = "http://127.0.0.1:9/data"
    hostile = dag(hostile_universe(base), CONSTRAINTS, dialect)
    plain = dag(
        hostile_universe(base, text="plain words", short="plain", extra=""), CONSTRAINTS, dialect
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


# ----------------------------------------------------------------------- templates and shells
# Text that Jinja (Airflow), a shell or R would evaluate: every generated program must
# carry it as data. The Airflow run of the same universe is in test_templating.py.

SECRET = "s3cret-value-42"  # the Airflow Variable secret_token, when one is set
TEMPLATE_TEXT = "{{ var.value.get('secret_token') }} {% if true %}x{% endif %} {# hidden #}"
SHELL_TEXT = "${HOME} $(echo pwned) `echo pwned`"
TEXT = f"{TEMPLATE_TEXT} | {SHELL_TEXT} | ends like a template file.sql"
# Asset name -> the path (and query) of its source URL, as declared. Clients refuse
# spaces in URLs, so the Jinja is written without them (`{%if+true%}` is valid Jinja)
# or with %20; each path ends like a template file Airflow would otherwise read.
URL_PATHS = {
    "expression": "/{{var.value.get('secret_token')}}${HOME}$(id)`id`.sql",
    "statement": "/{%if+true%}x{%endif%}.json?q={{%20var.value.get('secret_token')%20}}",
    "shell": "/$(echo%20pwned)%60echo%20pwned%60${HOME}.sh?{%if+true%}x{%endif%}",
}
TEMPLATED_LAKE = f"lake {TEMPLATE_TEXT} {SHELL_TEXT}"


def templated_tmp(asset: str) -> str:
    """A temporary directory of its own per asset, not named after it: the paths are
    columns of the parameter tables (Airflow task arguments, before they were rows)."""
    return f"tmp/{list(URL_PATHS).index(asset)}/{TEMPLATE_TEXT}/{SHELL_TEXT}.sh"


def serve_templated(http_server) -> dict[str, int]:
    """Write each source where the server finds it; return the rows of each table."""
    counts = {}
    for position, (asset, path) in enumerate(URL_PATHS.items()):
        served = urllib.parse.unquote(urllib.parse.urlsplit(path).path).lstrip("/")
        counts[asset] = snap_like_gz(http_server.root / served, 20 + 5 * position, seed=position)
    return counts


def templated_universe(base: str) -> Universe:
    """Three tables whose URLs, temporary paths, lake path and free text are all ``TEXT``-like;
    Parquet targets so that every dialect (R included) runs it."""
    from aorist import (
        ComplianceConfig,
        EndpointConfig,
        LakeConfig,
        ParquetEncoding,
        ReplicationStorageSetup,
        RoleBinding,
        User,
        UserGroup,
    )

    edge = IdentifierTuple(
        name="edge",
        attributes=[
            NumericIdentifier("from_id", comment=TEXT),
            NumericIdentifier("to_id", comment=TEMPLATE_TEXT),
        ],
    )
    lake = HiveTableStorage(location=MinioLocation(name="templated"), encoding=ParquetEncoding())
    tables = []
    for asset, path in URL_PATHS.items():
        remote = RemoteStorage(
            location=WebLocation(address=f"{base}{path}"),
            encoding=TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=4)),
        )
        setup = ReplicationStorageSetup(
            source=remote, targets=[lake], tmp_dir=templated_tmp(asset), tmp_encoding=CSVEncoding()
        )
        tables.append(
            StaticDataTable(
                name=asset,
                schema=default_tabular_schema(edge),
                setup=setup,
                tag=TEXT,
                comment=TEXT,
            )
        )
    data = DataSet(
        name="templated",
        description=TEXT,
        datum_templates=[edge],
        assets=tables,
        access_policies=[TEXT],
        tag=TEMPLATE_TEXT,
    )
    return Universe(
        name="templated",
        datasets=[data],
        endpoints=EndpointConfig(lake=LakeConfig(path=TEMPLATED_LAKE)),
        users=[User(unixname="ada", firstname=TEXT, lastname=SHELL_TEXT, email=TEMPLATE_TEXT)],
        groups=[UserGroup(name="team", members=["ada"], labels=[TEXT], description=TEXT)],
        role_bindings=[RoleBinding(user_name="ada", role=TEXT)],
        compliance=ComplianceConfig(
            description=TEXT,
            data_about_human_subjects=False,
            contains_personally_identifiable_information=False,
        ),
    )


def check_templated_run(http_server, cwd, counts: dict[str, int]) -> None:
    """The server saw every URL as declared and never the secret; the tables are right;
    the temporary files are where the declaration put them."""
    requests = http_server.requests
    seen = {urllib.parse.unquote(path) for path in requests}
    for asset, path in URL_PATHS.items():
        assert urllib.parse.unquote(path) in seen, (asset, requests)
    assert not any(SECRET in path or path.startswith("/x.") for path in seen), requests
    db = cwd / TEMPLATED_LAKE / "lake.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        for asset, count in counts.items():
            sums = con.execute(
                f'SELECT count(*), sum(from_id), sum(to_id) FROM templated."{asset}"'
            ).fetchall()[0]
            position = list(URL_PATHS).index(asset)
            assert tuple(sums) == (count, *edge_sums(count, seed=position)), asset
    # Nothing evaluated the text on its way to the file system either.
    for asset in URL_PATHS:
        assert (cwd / templated_tmp(asset)).is_dir(), sorted(map(str, cwd.rglob("*")))
    for path in cwd.rglob("*"):
        assert SECRET not in str(path) and path.name != "pwned", path


@pytest.fixture
def jupyter_paths(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    # As in test_jupyter.py: jupyter_core's new layout, runtime files under tmp_path.
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))


def test_template_and_shell_text_is_inert_in_a_script(http_server, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_SECRET_TOKEN", SECRET)
    counts = serve_templated(http_server)
    run_generated(dag(templated_universe(http_server.base_url), CONSTRAINTS, "python"), tmp_path)
    check_templated_run(http_server, tmp_path, counts)


def test_template_and_shell_text_is_inert_in_a_notebook(http_server, tmp_path, jupyter_paths):
    import nbformat
    from nbclient import NotebookClient

    counts = serve_templated(http_server)
    text = dag(templated_universe(http_server.base_url), CONSTRAINTS, "jupyter")
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    check_templated_run(http_server, tmp_path, counts)


def test_template_and_shell_text_is_inert_in_an_r_script(http_server, tmp_path):
    from test_r_dialect import run_r

    counts = serve_templated(http_server)
    run_r(dag(templated_universe(http_server.base_url), CONSTRAINTS, "r"), tmp_path)
    check_templated_run(http_server, tmp_path, counts)
