"""Properties over generated universes: determinism, unique legal names, valid output."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import black
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aorist import (
    BZip2Compression,
    CSVEncoding,
    CSVHeader,
    DataSet,
    GzipCompression,
    HiveTableStorage,
    Int64,
    KeyStringIdentifier,
    MinioLocation,
    NewlineDelimitedJSONEncoding,
    ORCEncoding,
    ParquetEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    TSVEncoding,
    Universe,
    WebLocation,
    ZipCompression,
    dag,
    default_tabular_schema,
    stage,
)

ROW = RowStruct(name="row", attributes=[KeyStringIdentifier("id"), Int64("value")])
# Short names from a small alphabet collide often, which is what naming must survive.
names = st.from_regex(r"[a-c][a-c_0-9]{0,5}", fullmatch=True)
long_names = st.from_regex(r"[a-z][a-z_0-9]{50,62}", fullmatch=True)
compressions = st.sampled_from([None, GzipCompression(), ZipCompression(), BZip2Compression()])
headers = st.sampled_from([None, CSVHeader(num_lines=1), CSVHeader(num_lines=3)])


@st.composite
def encodings(draw):
    kind = draw(st.sampled_from(["csv", "tsv", "jsonl"]))
    if kind == "jsonl":
        return NewlineDelimitedJSONEncoding(compression=draw(compressions))
    cls = CSVEncoding if kind == "csv" else TSVEncoding
    return cls(compression=draw(compressions), header=draw(headers))


@st.composite
def universes(draw):
    dataset_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    datasets = []
    for dataset in dataset_names:
        asset_names = draw(st.lists(names | long_names, min_size=1, max_size=4, unique=True))
        assets = [
            StaticDataTable(
                name=asset,
                schema=default_tabular_schema(ROW),
                setup=RemoteStorageSetup(
                    remote=RemoteStorage(
                        location=WebLocation(address=f"https://example.org/{dataset}/{asset}"),
                        encoding=draw(encodings()),
                    )
                ),
            )
            for asset in asset_names
        ]
        target = draw(st.sampled_from([ORCEncoding(), ParquetEncoding()]))
        datasets.append(
            DataSet(name=dataset, datum_templates=[ROW], assets=assets).replicate_to_local(
                HiveTableStorage(location=MinioLocation(name=dataset), encoding=target),
                f"tmp/{dataset}",
                CSVEncoding(),
            )
        )
    return Universe(name="lab", datasets=datasets)


PROPERTY = settings(max_examples=18, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(universes())
def test_task_names_are_unique_and_legal_everywhere(universe: Universe) -> None:
    groups = json.loads(stage(universe, ["AllAssetsComputed"], "compressed"))["groups"]
    tasks = [task for group in groups for task in group["tasks"]]
    assert len(tasks) == len(set(tasks))
    for task in tasks:
        # Python and R identifiers, Airflow task ids, PostgreSQL's 63-byte limit.
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", task), task
        assert len(task.encode()) <= 63, task


@PROPERTY
@given(universes())
def test_output_is_deterministic_valid_and_a_black_fixed_point(universe: Universe) -> None:
    for dialect in ("python", "airflow", "dagster", "prefect", "hamilton"):
        code = dag(universe, ["AllAssetsComputed"], dialect)
        assert code == dag(universe, ["AllAssetsComputed"], dialect)
        ast.parse(code)
        assert black.format_str(code, mode=black.Mode()) == code
    notebook = json.loads(dag(universe, ["AllAssetsComputed"], "jupyter"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            ast.parse("".join(cell["source"]))


@PROPERTY
@given(universes())
def test_request_order_does_not_matter(universe: Universe) -> None:
    forward = dag(universe, ["AllAssetsComputed", "DataSetComputed"])
    assert forward == dag(universe, ["DataSetComputed", "AllAssetsComputed"])


def test_names_stay_stable_when_unrelated_assets_are_added() -> None:
    def universe(extra: list[str]) -> Universe:
        assets = [
            StaticDataTable(
                name=name,
                schema=default_tabular_schema(ROW),
                setup=RemoteStorageSetup(
                    remote=RemoteStorage(
                        location=WebLocation(address=f"https://example.org/{name}"),
                        encoding=CSVEncoding(),
                    )
                ),
            )
            for name in ["alpha", "beta", *extra]
        ]
        dataset = DataSet(name="d", datum_templates=[ROW], assets=assets)
        return Universe(name="lab", datasets=[dataset])

    def tasks(universe: Universe) -> set[str]:
        groups = json.loads(stage(universe, ["AllAssetsComputed"], "compressed"))["groups"]
        return {task for group in groups for task in group["tasks"]}

    before = tasks(universe([]))
    after = tasks(universe(["gamma", "delta"]))
    assert before <= after


def test_twenty_thousand_assets_generate_in_seconds_without_recursion_limits(
    tmp_path: Path,
) -> None:
    # Graph walks are iterative: a wide universe must not hit Python's or Rust's stack.
    # (The deepest chains are per asset; universes have no deep derivations yet.)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        from bench import universe
    finally:
        sys.path.pop(0)
    code = dag(universe(20_000), ["AllAssetsComputed"], "python")
    compile(code, "wide.py", "exec")
    assert code.count('"graph_') >= 20_000
    # Every added asset is a row, not a block: the file stays a few lines per asset (its
    # row in the shared tables, and its task among the upstream of its dataset's gather).
    assert code.count("\n") < 4 * 20_000


def test_hash_seed_does_not_change_output(tmp_path: Path) -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from test_properties import universes_example;"
        "from aorist import dag; print(dag(universes_example(), ['AllAssetsComputed'], 'airflow'))"
    )
    here = str(Path(__file__).resolve().parent)
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script, here],
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1", "4242")
    }
    assert len(outputs) == 1


def universes_example() -> Universe:
    """A fixed universe with colliding names ("a" + "b_c" vs "a_b" + "c")."""
    datasets = []
    for dataset in ["a", "a_b"]:
        assets = [
            StaticDataTable(
                name=name,
                schema=default_tabular_schema(ROW),
                setup=RemoteStorageSetup(
                    remote=RemoteStorage(
                        location=WebLocation(address=f"https://example.org/{dataset}/{name}.gz"),
                        encoding=TSVEncoding(compression=GzipCompression(), header=CSVHeader()),
                    )
                ),
            )
            for name in ["b_c", "c", "x"]
        ]
        datasets.append(
            DataSet(name=dataset, datum_templates=[ROW], assets=assets).replicate_to_local(
                HiveTableStorage(location=MinioLocation(name=dataset), encoding=ORCEncoding()),
                f"tmp/{dataset}",
                CSVEncoding(),
            )
        )
    return Universe(name="lab", datasets=datasets)


CHUNKED = [
    '"""Doc."""\nimport os\nX=1\n# about f\n@decorator\ndef f( a ):\n    return a\nY = [1,\n2]\n'
    "def g(): pass\nclass C:\n  z=1\n# trailing\n",
    "def first():\n  pass\n\n\n\n\n# kept apart\n\ndef second(): return 1\nZ=2\n\n",
    "import os\ndef f():\n    '''\ndef not_a_definition():\n'''\n    return os\n@a\n@b(1)\n"
    "class D(object):\n    def m(self): return {'k':1,}\n",
    'x = """\n# not a comment\ndef nor_a_definition():\n"""\nif x:\n    def h(): pass\nelse:\n'
    "    h = None\n",
]


def test_black_by_top_level_chunks_lays_out_what_black_lays_out_on_the_whole() -> None:
    """Programs are formatted a chunk at a time (a definition with its comments), so
    that the helpers' layout is computed once per process: the result is black's."""
    from aorist.dialects.python import black_format, top_level_chunks

    for source in CHUNKED:
        assert len(top_level_chunks(source)) > 1 or source == CHUNKED[-1]
        assert black_format(source) == black.format_str(source, mode=black.Mode()), source


def test_each_line_a_program_prints_is_one_write() -> None:
    """Steps run in threads: `print(a)` writes `a`, then the newline, so another
    thread's line can land between them and two lines come out as one (a dry run's
    `task: state` line, lost that way, once failed `aorist status`). Every print in
    the recipes and in the programs of each python dialect writes its line at once."""
    root = Path(__file__).resolve().parent.parent
    sources = {
        str(path.relative_to(root)): path.read_text(encoding="utf-8")
        for path in (root / "recipes").rglob("*.py")
    }
    for dialect in ("python", "airflow", "jupyter", "dagster", "prefect", "hamilton"):
        code = dag(universes_example(), ["AllAssetsComputed"], dialect)
        if dialect == "jupyter":
            cells = json.loads(code)["cells"]
            code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        sources[dialect] = code
    split = []
    for name, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print"):
                continue
            end = next((k.value for k in node.keywords if k.arg == "end"), None)
            one_write = isinstance(end, ast.Constant) and end.value == "" and len(node.args) == 1
            if not one_write:
                split.append(f"{name}:{node.lineno}")
    assert len(sources) > 50 and "def announce(" in sources["airflow"]
    assert split == [], "print(..., end='') with the newline in its one argument"


def test_hamilton_asset_functions_laid_out_by_hand_are_what_black_lays_out() -> None:
    """The hamilton program's asset functions skip black (it would take seconds at
    10,000 assets): short and long signatures, long names, still a black fixed point."""
    from aorist import ComputedFromLocalData, ParquetEncoding, UndefinedTabularSchema

    from fixtures_data import snap_dataset

    names = [f"a-very-long-graph-source-name-number-{i}-aaaaaaaa" for i in range(4)]
    dataset = snap_dataset("http://127.0.0.1:9", names)
    lake = HiveTableStorage(location=MinioLocation(name="x"), encoding=ParquetEncoding())
    keys = [asset.name for asset in dataset.assets]
    derived = {
        "union_all": {f"r{i}": keys[i] for i in range(4)},
        "two": {"r0": keys[0], "r1": keys[1]},
        "c6cf9sc90z7z80qbpb0000000000000000000000m41_uqp32zpc1v7j_a7lv5i": {"r0": keys[0]},
    }
    for name, sources in derived.items():
        sql = " UNION ALL ".join(f"SELECT * FROM {{{role}}}" for role in sources)
        dataset.add_asset(
            StaticDataTable(
                name=name,
                schema=UndefinedTabularSchema(),
                setup=ComputedFromLocalData(source_asset_names=sources, target=lake, sql=sql),
            )
        )
    code = dag(Universe(name="lab", datasets=[dataset]), ["AllAssetsComputed"], "hamilton")
    assert black.format_str(code, mode=black.Mode()) == code
    assert "def union_all(\n    a_very_long_graph_source_name_number_0_aaaaaaaa: str,\n" in code
