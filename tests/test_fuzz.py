"""Any text in any declared field: generation returns code that compiles, or a typed error.

Names (where a name is asked for), URLs, paths, digests, temporary directories, the lake
path, location names, column names, descriptions, comments, tags and the people and
compliance fields are drawn from arbitrary text, keywords and fragments that break
naive printers (quotes, backslashes, line separators, braces, Jinja, shell, NUL, lone
surrogates). Every dialect either refuses the universe with an `AoristError` or writes
a program that compiles (Python, each notebook cell) or that R parses. Any other
exception is a bug.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_keywords import WORDS

import aorist
from aorist import (
    AoristError,
    BZip2Compression,
    ComplianceConfig,
    CSVEncoding,
    CSVHeader,
    DataSet,
    EndpointConfig,
    GzipCompression,
    HiveTableStorage,
    LakeConfig,
    LocalFileStorage,
    LocalFileSystemLocation,
    LocalStorageSetup,
    MinioLocation,
    NewlineDelimitedJSONEncoding,
    ORCEncoding,
    ParquetEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    ReplicationStorageSetup,
    RoleBinding,
    RowStruct,
    StaticDataTable,
    TSVEncoding,
    Universe,
    User,
    UserGroup,
    WebLocation,
    ZipCompression,
    dag,
    default_tabular_schema,
)

from conftest import CONSTRAINTS

DIALECTS = ("python", "airflow", "jupyter", "r", "dagster", "prefect", "hamilton")
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FRAGMENTS = [
    "'", '"', '"""', "'''", "\\", "\\n", "\n", "\r\n", "\r", "\t", "\x00", "\x0b", "\x0c",
    "\x1b", "\u2028", "\u2029", "\x85", "\ufeff", "\ud800", "\udfff", "é", "☃", "𝔘",
    "{", "}", "{}", "{0}", "{name}", "{{", "}}", "%s", "%(x)s", "%", "$", "`", "#", ";",
    "--", "/*", "*/", "{{ var.value.get('secret_token') }}", "{% if true %}x{% endif %}",
    "{# c #}", "${HOME}", "$(echo pwned)", "`echo pwned`", "'; DROP TABLE x; --",
    "paste0(", "system('x')", "\\u{41}", "\\x41", "NULL", "None", "__import__('os')",
    "x.sql", "x.json", "x.sh", "x.md", "http://127.0.0.1:9/a", "file:///etc/passwd",
    "../../", "/", " ", "", "0" * 64, "a" * 100,
]  # fmt: skip

# Every code point but NUL and lone surrogates (which declarations refuse), and every one.
clean_characters = st.characters(codec=None, exclude_categories=("Cs",), exclude_characters="\x00")
any_characters = st.characters(codec=None, exclude_categories=())
CLEAN_FRAGMENTS = [
    f for f in FRAGMENTS if "\x00" not in f and not 0xD800 <= ord(f[:1] or "a") <= 0xDFFF
]


def text_of(characters: st.SearchStrategy[str], fragments: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(characters, max_size=20),
        st.lists(st.sampled_from(fragments) | st.text(characters, max_size=3), max_size=6).map(
            "".join
        ),
    )


clean_texts = text_of(clean_characters, CLEAN_FRAGMENTS)
any_texts = text_of(any_characters, FRAGMENTS)
identifiers = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True), st.sampled_from(WORDS)
)


ATTRIBUTES = [getattr(aorist, kind) for kind in aorist.ATTRIBUTE_KINDS]


class Fields:
    """The strategies of one universe's fields. Most universes draw text a declaration
    accepts (so that generation runs); some draw any text and any name, which the
    declaration must refuse with a typed error or the dialects must express."""

    def __init__(self, draw: st.DrawFn) -> None:
        wild = draw(st.integers(0, 4)) == 0
        self.texts = any_texts if wild else clean_texts
        self.names = identifiers | any_texts if wild else identifiers
        # Most universes only replicate CSV and TSV into Parquet, which every dialect can
        # do (R writes no ORC and reads no JSON); the others are refused with a typed error.
        plain = draw(st.integers(0, 3)) > 0
        self.setups = ["replicated"] if plain else ["replicated", "remote", "local"]
        self.kinds = ["csv", "tsv"] if plain else ["csv", "tsv", "jsonl"]
        self.targets = [ParquetEncoding()] if plain else [ORCEncoding(), ParquetEncoding()]
        self.digests = st.one_of(
            st.none(),
            st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
            *([any_texts] if wild else []),
        )


@st.composite
def encodings(draw: st.DrawFn, fields: Fields) -> object:
    compression = draw(
        st.sampled_from([None, GzipCompression(), ZipCompression(), BZip2Compression()])
    )
    kind = draw(st.sampled_from(fields.kinds))
    if kind == "jsonl":
        return NewlineDelimitedJSONEncoding(compression=compression)
    header = draw(st.sampled_from([None, CSVHeader(num_lines=1), CSVHeader(num_lines=3)]))
    cls = CSVEncoding if kind == "csv" else TSVEncoding
    return cls(compression=compression, header=header)


@st.composite
def tables(draw: st.DrawFn, fields: Fields, row: RowStruct) -> StaticDataTable:
    texts, names = fields.texts, fields.names
    source = draw(st.sampled_from(["web", "file"]))
    location = (
        WebLocation(address=draw(texts))
        if source == "web"
        else LocalFileSystemLocation(path=draw(texts))
    )
    remote = RemoteStorage(
        location=location, encoding=draw(encodings(fields)), sha256=draw(fields.digests)
    )
    target = HiveTableStorage(
        location=MinioLocation(name=draw(names)),
        encoding=draw(st.sampled_from(fields.targets)),
    )
    setup = draw(st.sampled_from(fields.setups))
    if setup == "remote":
        storage_setup = RemoteStorageSetup(remote=remote, tmp_dir=draw(st.none() | texts))
    elif setup == "replicated":
        storage_setup = ReplicationStorageSetup(
            source=remote, targets=[target], tmp_dir=draw(texts), tmp_encoding=CSVEncoding()
        )
    else:
        local = LocalFileStorage(
            location=LocalFileSystemLocation(path=draw(texts)), encoding=draw(encodings(fields))
        )
        storage_setup = LocalStorageSetup(local=local, tmp_dir=draw(st.none() | texts))
    return StaticDataTable(
        name=draw(names),
        schema=default_tabular_schema(row),
        setup=storage_setup,
        tag=draw(st.none() | texts),
        comment=draw(st.none() | texts),
    )


@st.composite
def universes(draw: st.DrawFn) -> Universe | AoristError:
    """A universe, or the typed error that refused one of its concepts."""
    fields = Fields(draw)
    texts, names = fields.texts, fields.names
    try:
        datasets = []
        for _ in range(draw(st.integers(1, 2))):
            columns = draw(st.lists(names, min_size=1, max_size=3))
            attributes = [
                draw(st.sampled_from(ATTRIBUTES))(
                    column, comment=draw(st.none() | texts), nullable=draw(st.booleans())
                )
                for column in columns
            ]
            row = RowStruct(name=draw(names), attributes=attributes)
            assets = [draw(tables(fields, row)) for _ in range(draw(st.integers(1, 3)))]
            data = DataSet(
                name=draw(names),
                description=draw(texts),
                datum_templates=[row],
                assets=assets,
                access_policies=draw(st.lists(texts, max_size=2)),
                tag=draw(st.none() | texts),
            )
            datasets.append(data)
        user = User(
            unixname=draw(names),
            firstname=draw(st.none() | texts),
            lastname=draw(st.none() | texts),
            email=draw(st.none() | texts),
            phone=draw(st.none() | texts),
        )
        return Universe(
            name=draw(names),
            datasets=datasets,
            endpoints=EndpointConfig(lake=LakeConfig(path=draw(texts))),
            users=[user],
            groups=[
                UserGroup(
                    name=draw(names),
                    members=[user.unixname],
                    labels=draw(st.lists(texts, max_size=2)),
                    description=draw(st.none() | texts),
                )
            ],
            role_bindings=[RoleBinding(user_name=user.unixname, role=draw(texts))],
            compliance=ComplianceConfig(
                description=draw(texts),
                data_about_human_subjects=draw(st.booleans()),
                contains_personally_identifiable_information=draw(st.booleans()),
            ),
        )
    except AoristError as error:
        return error


def check(dialect: str, code: str, tmp_path: Path) -> None:
    if dialect in ("python", "airflow", "dagster", "prefect", "hamilton"):
        compile(code, f"{dialect}.py", "exec")
    elif dialect == "jupyter":
        for cell in json.loads(code)["cells"]:
            if cell["cell_type"] == "code":
                compile("".join(cell["source"]), "cell", "exec")
    else:
        from test_r_dialect import rscript

        script = tmp_path / "fuzz.R"
        script.write_text(code, encoding="utf-8")
        parsed = subprocess.run(
            [rscript(), "--vanilla", "-e", f"invisible(parse(file = {str(script)!r}))"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert parsed.returncode == 0, parsed.stderr


@FUZZ
@given(universes())
def test_any_text_generates_code_that_compiles_or_a_typed_error(
    tmp_path_factory, universe: Universe | AoristError
) -> None:
    if isinstance(universe, AoristError):
        event(f"declaration refused: {type(universe).__name__}")
        return
    tmp_path = tmp_path_factory.mktemp("fuzz")
    for dialect in DIALECTS:
        try:
            code = dag(universe, CONSTRAINTS, dialect)
        except AoristError as error:
            event(f"{dialect}: {type(error).__name__}")
            continue
        event(f"{dialect}: generated")
        check(dialect, code, tmp_path)
