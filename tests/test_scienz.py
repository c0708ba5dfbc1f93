"""The scienz catalog: every entry is sound, generates code in every dialect, and runs.

- Each catalog module passes ``scienz.check`` (doc header, DataSet, schema against the
  sample line of each file); deliberately bad modules fail the same check, clearly.
- Every dataset generates deterministic code in every dialect, with ORC and Parquet
  targets; the R dialect runs Python recipes for ORC targets and JSON-lines sources, and
  raises ``NoRecipeError`` for them when preferences leave Python out.
- For a SNAP-like gzip TSV, a wine-like CSV, a zip and a JSON-lines source, the generated
  Python runs against small fixture files served on loopback through ``scienz.mirror``.
- ``scienz.mirror`` and ``aorist dataset new`` behave as documented.
"""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import json
import pkgutil
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aorist import (
    CSVEncoding,
    DataSet,
    DeclarationError,
    HiveTableStorage,
    MinioLocation,
    NewlineDelimitedJSONEncoding,
    NoRecipeError,
    ORCEncoding,
    ParquetEncoding,
    RemoteStorageSetup,
    ReplicationStorageSetup,
    Universe,
    WebLocation,
    dag,
)
from aorist.scaffold import new_dataset

from conftest import (
    CONSTRAINTS,
    REPO_ROOT,
    assert_no_aorist_import,
    lake_columns,
    lake_query,
    lake_tables,
    output_of,
    run_generated,
)
from fixtures_data import SNAP_NAMES, snap_edge_counts, snap_key, snap_like_gz, zipped

# The catalog under test is the repository's, even where another copy is installed.
DATASETS_DIR = REPO_ROOT / "datasets"
if str(DATASETS_DIR) not in sys.path:
    sys.path.insert(0, str(DATASETS_DIR))
scienz = importlib.import_module("scienz")
CATALOG_DIR = DATASETS_DIR / "scienz"
NAMES = sorted(scienz.DATASETS)

DIALECTS = ["python", "airflow", "jupyter", "r"]
TARGETS = {"orc": ORCEncoding, "parquet": ParquetEncoding}


# ----------------------------------------------------------------------- helpers


def assert_sound(entry: Path) -> None:
    """The catalog test: fail, naming every problem, unless the entry is sound."""
    problems = scienz.check(entry)
    assert not problems, "catalog entry is not sound:\n  " + "\n  ".join(problems)


def replicated(dataset: DataSet, target: str) -> DataSet:
    storage = HiveTableStorage(
        location=MinioLocation(name=dataset.name), encoding=TARGETS[target]()
    )
    return dataset.replicate_to_local(storage, f"tmp/{dataset.name}", CSVEncoding())


def universe_of(dataset: DataSet, target: str = "orc") -> Universe:
    return Universe(name=f"{dataset.name}_lab", datasets=[replicated(dataset, target)])


def is_json_lines(dataset: DataSet) -> bool:
    return any(
        isinstance(asset.setup.remote.encoding, NewlineDelimitedJSONEncoding)
        for asset in dataset.assets
    )


def expected_columns(dataset: DataSet, asset: str) -> list[tuple[str, str]]:
    """The lake columns the schema declares: names in order, DuckDB types."""
    (table,) = [a for a in dataset.assets if a.name == asset]
    return [(a.name, type(a).column_types["duckdb"]) for a in table.schema.attributes]


def source_url(dataset: DataSet, asset: str) -> str:
    (table,) = [a for a in dataset.assets if a.name == asset]
    return table.setup.remote.location.address


def write_module(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    return path


def load_module(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"_bad_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------- the catalog


def test_the_catalog_covers_the_promised_datasets_and_formats():
    assert len(NAMES) >= 10, NAMES
    assert {"snap", "wine", "iris", "adult", "titanic"} <= set(NAMES)
    assert [a.name for a in scienz.snap.assets] == [snap_key(n) for n in SNAP_NAMES]
    encodings = [
        asset.setup.remote.encoding
        for dataset in scienz.DATASETS.values()
        for asset in dataset.assets
    ]
    kinds = {type(e).__name__ for e in encodings}
    assert {"CSVEncoding", "TSVEncoding", "NewlineDelimitedJSONEncoding"} <= kinds
    compressions = {type(e.compression).__name__ for e in encodings}
    assert {"NoneType", "GzipCompression", "ZipCompression"} <= compressions


def test_every_module_is_exported_under_its_name():
    modules = sorted(
        info.name
        for info in pkgutil.iter_modules([str(CATALOG_DIR)])
        if not info.name.startswith("_")
    )
    assert modules == NAMES, (
        "every catalog module must be imported in scienz/__init__.py and listed in DATASETS"
    )
    from scienz import snap, wine

    assert snap is scienz.DATASETS["snap"] and wine is scienz.DATASETS["wine"]
    for name in NAMES:
        module = importlib.import_module(f"scienz.{name}")
        assert getattr(scienz, name) is getattr(module, name) is scienz.DATASETS[name]


@pytest.mark.parametrize("name", NAMES)
def test_catalog_entry_is_sound(name):
    assert_sound(CATALOG_DIR / f"{name}.py")
    card = scienz.card(name)
    assert card.splitlines()[0] and "\nLicence: " in card and "\nSamples:\n" in card


def test_snap_matches_the_api_contract():
    (edge,) = scienz.snap.datum_templates
    assert [(type(a).__name__, a.name) for a in edge.attributes] == [
        ("NumericIdentifier", "from_id"),
        ("NumericIdentifier", "to_id"),
    ]
    for name, asset in zip(SNAP_NAMES, scienz.snap.assets, strict=True):
        remote = asset.setup.remote
        assert remote.location.address == f"https://snap.stanford.edu/data/{name}.txt.gz"
        assert type(remote.encoding).__name__ == "TSVEncoding"
        assert type(remote.encoding.compression).__name__ == "GzipCompression"
        assert remote.encoding.header.num_lines == 4
        assert remote.sha256 is None


def test_a_sha256_is_declared_only_with_its_published_source():
    declared = {
        (dataset.name, asset.name): asset.setup.remote.sha256
        for dataset in scienz.DATASETS.values()
        for asset in dataset.assets
        if asset.setup.remote.sha256 is not None
    }
    # The one source in the catalog that publishes a digest (see covtype's doc header).
    assert declared == {
        ("covtype", "covtype"): "614360d0257557dd1792834a85a1cdebfadc3c4f30b011d56afee7ffb5b15771"
    }
    doc = importlib.import_module("scienz.covtype").__doc__
    assert "614360d0257557dd1792834a85a1cdebfadc3c4f30b011d56afee7ffb5b15771" in doc
    assert "sklearn/datasets/_covtype.py" in doc


# ----------------------------------------------------------------------- generation


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", NAMES)
def test_generation_is_deterministic_in_every_dialect(name, dialect, target):
    dataset = scienz.DATASETS[name]
    if dialect == "r" and (target == "orc" or is_json_lines(dataset)):
        # The documented limits of the R recipes: no ORC writer, no JSON parser. By
        # default an R program runs the Python recipes for those (run_python.R).
        missing = "ConvertedToCSV" if is_json_lines(dataset) else "ConvertedToTargetEncoding"
        with pytest.raises(NoRecipeError, match=missing):
            dag(
                universe_of(dataset, target), CONSTRAINTS, dialect, preferences=["r", "sql", "bash"]
            )
    first = dag(universe_of(dataset, target), CONSTRAINTS, dialect)
    second = dag(universe_of(dataset, target), CONSTRAINTS, dialect)
    assert isinstance(first, str) and first
    assert first == second, f"{name} ({dialect}, {target}): generation is not deterministic"
    if dialect != "r":  # the R printer splits long strings with paste0()
        for asset in dataset.assets:
            assert source_url(dataset, asset.name) in first, f"{asset.name}: source URL missing"
    if dialect in ("python", "airflow"):
        compile(first, f"{name}.{dialect}.py", "exec")
        assert_no_aorist_import(first)
    elif dialect == "jupyter":
        assert json.loads(first)["nbformat"] == 4


# ----------------------------------------------------------------------- running it


def wine_like(path: Path, n_rows: int) -> int:
    """wine.data's layout: no header, cultivar first, floats as UCI writes them (.28)."""
    rng = random.Random(n_rows)
    lines = []
    for _ in range(n_rows):
        values = [f"{rng.uniform(0, 1500):.2f}".removeprefix("0") for _ in range(13)]
        lines.append(",".join([str(rng.randint(1, 3)), *values]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return n_rows


def iris_like(path: Path, n_rows: int) -> int:
    """iris.data's layout: no header, species last, and an empty line at the end."""
    species = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    lines = [f"{5 + i % 3}.1,3.{i % 10},1.4,0.2,{species[i % 3]}" for i in range(n_rows)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n\n", encoding="ascii")
    return n_rows


def cities_like(path: Path, n_rows: int) -> int:
    """cities15000.zip's layout: one tab-separated member, no header, empty = unknown."""
    rows = []
    for i in range(n_rows):
        rows.append(
            [
                str(3_000_000 + i),
                f'Città "{i}"',
                f"Citta {i}",
                "" if i % 4 == 0 else f"Alt {i},Autre, {i}",
                f"{-40 + i * 0.5:.5f}",
                f"{10 + i * 0.25:.5f}",
                "P",
                "PPLA" if i % 2 else "PPL",
                "IT",
                "" if i % 3 else "SM,VA",
                f"{i % 20:02d}",
                "",
                "",
                "",
                str(15_000 + i * 10),
                "" if i % 5 else str(100 + i),
                str(90 + i),
                "Europe/Rome",
                "2024-01-0" + str(1 + i % 9),
            ]
        )
    text = "".join("\t".join(row) + "\n" for row in rows)
    assert zipped(path, "cities15000.txt", text) == n_rows
    return n_rows


def events_like(path: Path, n_rows: int) -> list[dict[str, Any]]:
    """A GH Archive hour: gzip JSON lines, nested objects, org only on some events."""
    events = []
    for i in range(n_rows):
        event: dict[str, Any] = {
            "id": str(2_489_651_045 + i),
            "type": ["PushEvent", "CreateEvent", "WatchEvent"][i % 3],
            "actor": {"id": i, "login": f"user{i}", "url": f"https://api.github.com/users/u{i}"},
            "repo": {"id": 100 + i, "name": f"user{i}/repo", "url": "https://api.github.com/r"},
            "payload": {"ref": "main", "commits": [{"message": f'fix "{i}",\nline two'}]},
            "public": i % 7 != 0,
            "created_at": f"2015-01-01T15:{i % 60:02d}:00Z",
        }
        if i % 4 == 0:
            event["org"] = {"id": 9, "login": "org"}
        events.append(event)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write("".join(json.dumps(e) + "\n" for e in events).encode())
    return events


UCI = "https://archive.ics.uci.edu/"


def served(http_server, url: str, prefix: str) -> Path:
    """Where the fixture for ``url`` goes when ``prefix`` is mirrored to ``/mirror/``."""
    assert url.startswith(prefix), url
    return http_server.root / "mirror" / url[len(prefix) :]


def run_mirrored(http_server, tmp_path: Path, dataset: DataSet, prefix: str, target: str):
    mirrored = scienz.mirror(dataset, {prefix: f"{http_server.base_url}/mirror/"}, strict=True)
    code = dag(universe_of(mirrored, target), CONSTRAINTS, "python")
    return run_generated(code, tmp_path)


def test_snap_runs_through_a_mirror(http_server, tmp_path):
    counts = snap_edge_counts()
    prefix = "https://snap.stanford.edu/data/"
    for name, n_edges in counts.items():
        url = source_url(scienz.snap, snap_key(name))
        snap_like_gz(served(http_server, url, prefix), n_edges)
    run_mirrored(http_server, tmp_path, scienz.snap, prefix, "orc")

    assert lake_tables(tmp_path) == {f"snap.{snap_key(n)}": c for n, c in counts.items()}
    for name in SNAP_NAMES:
        key = snap_key(name)
        assert lake_columns(tmp_path, f"snap.{key}") == expected_columns(scienz.snap, key)
    assert all(path.startswith("/mirror/") for path in http_server.requests)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_uci_csv_without_header_runs_through_a_mirror(http_server, tmp_path, target):
    wine_rows = wine_like(served(http_server, source_url(scienz.wine, "wine"), UCI), 40)
    iris_rows = iris_like(served(http_server, source_url(scienz.iris, "iris"), UCI), 30)
    both = Universe(
        name="uci_lab",
        datasets=[
            replicated(scienz.mirror(d, {UCI: f"{http_server.base_url}/mirror/"}), target)
            for d in (scienz.wine, scienz.iris)
        ],
    )
    run_generated(dag(both, CONSTRAINTS, "python"), tmp_path)

    assert lake_tables(tmp_path) == {"wine.wine": wine_rows, "iris.iris": iris_rows}
    assert lake_columns(tmp_path, "wine.wine") == expected_columns(scienz.wine, "wine")
    assert lake_columns(tmp_path, "iris.iris") == expected_columns(scienz.iris, "iris")
    cultivars = lake_query(tmp_path, "SELECT DISTINCT cultivar FROM wine.wine ORDER BY 1")
    assert {row[0] for row in cultivars} <= {1, 2, 3}


def test_zip_of_tsv_runs_through_a_mirror(http_server, tmp_path):
    dataset = scienz.geonames_cities
    prefix = "https://download.geonames.org/export/dump/"
    n_rows = cities_like(served(http_server, source_url(dataset, "cities15000"), prefix), 25)
    run_mirrored(http_server, tmp_path, dataset, prefix, "parquet")

    table = "geonames_cities.cities15000"
    assert lake_tables(tmp_path) == {table: n_rows}
    assert lake_columns(tmp_path, table) == expected_columns(dataset, "cities15000")
    names = lake_query(tmp_path, f"SELECT name, alternatenames FROM {table} ORDER BY geonameid")
    assert names[1] == ('Città "1"', "Alt 1,Autre, 1")
    assert lake_query(tmp_path, f"SELECT count(*) FROM {table} WHERE elevation IS NULL") == [
        (sum(1 for i in range(n_rows) if i % 5),)
    ]


def test_json_lines_run_through_a_mirror(http_server, tmp_path):
    dataset = scienz.gharchive
    asset = "events_2015_01_01_15"
    events = events_like(
        served(http_server, source_url(dataset, asset), "https://data.gharchive.org/"), 30
    )
    run_mirrored(http_server, tmp_path, dataset, "https://data.gharchive.org/", "orc")

    table = f"gharchive.{asset}"
    assert lake_tables(tmp_path) == {table: len(events)}
    assert lake_columns(tmp_path, table) == expected_columns(dataset, asset)
    rows = lake_query(tmp_path, f"SELECT id, payload, public, org FROM {table} ORDER BY id")
    assert [r[0] for r in rows] == sorted(e["id"] for e in events)
    assert json.loads(rows[0][1]) == events[0]["payload"]
    assert [r[2] for r in rows] == [e["public"] for e in events]
    assert sum(r[3] is None for r in rows) == sum("org" not in e for e in events)


def test_a_mirror_keeps_the_published_sha256(http_server, tmp_path):
    prefix = "https://ndownloader.figshare.com/files/"
    path = served(http_server, source_url(scienz.covtype, "covtype"), prefix)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(b"2596,51,3\n", mtime=0))  # not the published file
    mirrored = scienz.mirror(scienz.covtype, {prefix: f"{http_server.base_url}/mirror/"})
    proc = run_generated(
        dag(universe_of(mirrored), CONSTRAINTS, "python"), tmp_path, expect_ok=False
    )
    assert "sha256 mismatch" in output_of(proc)
    assert lake_tables(tmp_path) == {}


# ----------------------------------------------------------------------- bad entries

HEADER = '''"""{summary}

Source: https://example.org/
Licence: CC0-1.0
Size: 3 rows
Schema: a (Int64), b (Int64)
Checksum: none published; sha256 is left None
Samples:
    {asset}: {sample}
"""
'''

MODULE = """
from aorist import *

row = RowStruct(name="row", attributes=[Int64("a"), Int64("b")])


def table(name, sha256=None):
    return StaticDataTable(
        name=name,
        schema=default_tabular_schema(row),
        setup=RemoteStorageSetup(
            remote=RemoteStorage(
                location=WebLocation(address="https://example.org/" + name + ".{ext}"),
                encoding={encoding},
                sha256=sha256,
            )
        ),
    )


{name} = DataSet(name="{dataset}", datum_templates=[row], assets=[{assets}])
"""


def bad_module(
    directory: Path,
    name: str,
    *,
    summary: str = "Pairs of numbers.",
    sample: str = "1,2",
    assets: str = 'table("pairs")',
    dataset: str | None = None,
    encoding: str = "CSVEncoding()",
    ext: str = "csv",
    header: bool = True,
) -> Path:
    text = HEADER.format(summary=summary, asset="pairs", sample=sample) if header else ""
    text += MODULE.format(
        name=name, dataset=dataset or name, assets=assets, encoding=encoding, ext=ext
    )
    return write_module(directory, name, text)


def test_a_sound_module_in_a_temporary_directory_passes(tmp_path):
    assert_sound(bad_module(tmp_path, "pairs"))


@pytest.mark.parametrize(
    ("case", "options", "message"),
    [
        (
            "three_columns_two_attributes",
            {"sample": "1,2,3"},
            r"asset 'pairs': the sample line has 3 comma-separated fields but the schema "
            r"declares 2 attributes \(a, b\)",
        ),
        (
            "three_tsv_columns",
            {"sample": r"1\t2\t3", "encoding": "TSVEncoding()", "ext": "tsv"},
            "has 3 tab-separated fields but the schema declares 2 attributes",
        ),
        (
            "column_of_the_wrong_type",
            {"sample": "1,x"},
            r"attribute 'b' \(Int64\) cannot read the sample value 'x'",
        ),
        (
            "duplicate_asset_name",
            {"assets": 'table("pairs"), table("pairs")'},
            r"importing it raised DuplicateNameError: DataSet 'duplicate_asset_name'\.assets: "
            r"positions 0 and 1 are both named 'pairs'",
        ),
        (
            "no_doc_header",
            {"header": False},
            "has no doc header",
        ),
        (
            "dataset_named_otherwise",
            {"dataset": "other_name"},
            "the DataSet is named 'other_name' but the module is 'dataset_named_otherwise'",
        ),
        (
            "sample_for_another_asset",
            {"assets": 'table("other")'},
            r"(?s)samples for assets the DataSet does not declare: pairs.*asset 'other': the "
            r"doc header has no sample line for it",
        ),
        (
            "invented_checksum",
            {"assets": 'table("pairs", sha256="ab" * 32)'},
            "declares sha256 abab.* but the Checksum field does not give that digest",
        ),
    ],
)
def test_a_bad_catalog_entry_fails_the_catalog_test_clearly(tmp_path, case, options, message):
    path = bad_module(tmp_path, case, **options)
    with pytest.raises(AssertionError, match=message) as failure:
        assert_sound(path)
    assert f"{case}.py: " in str(failure.value), "the failure must name the module"


def test_a_schema_narrower_than_its_file_fails_the_generated_program(http_server, tmp_path):
    path = bad_module(tmp_path, "narrow", sample="1,2,3")
    assert any("3 comma-separated fields" in p for p in scienz.check(path))
    (http_server.root / "pairs.csv").write_text("1,2,3\n4,5,6\n")
    narrow = scienz.mirror(
        load_module(path).narrow, {"https://example.org/": f"{http_server.base_url}/"}
    )
    proc = run_generated(dag(universe_of(narrow), CONSTRAINTS, "python"), tmp_path / "run", False)
    out = output_of(proc)
    assert "expected 2 comma-separated fields, found 3" in out, (
        f"the failure should name the column counts:\n{out}"
    )
    assert lake_tables(tmp_path / "run").get("narrow.pairs") is None


def test_a_tsv_wider_than_its_schema_fails_the_generated_program(http_server, tmp_path):
    path = bad_module(
        tmp_path, "narrow_tsv", sample=r"1\t2\t3", encoding="TSVEncoding()", ext="tsv"
    )
    (http_server.root / "pairs.tsv").write_text("1\t2\t3\n")
    narrow = scienz.mirror(
        load_module(path).narrow_tsv, {"https://example.org/": f"{http_server.base_url}/"}
    )
    proc = run_generated(dag(universe_of(narrow), CONSTRAINTS, "python"), tmp_path / "run", False)
    assert "expected 2 tab-separated fields, found 3" in output_of(proc)


# ----------------------------------------------------------------------- mirror


def remote_addresses(dataset: DataSet) -> list[str]:
    out = []
    for asset in dataset.assets:
        setup = asset.setup
        source = setup.remote if isinstance(setup, RemoteStorageSetup) else setup.source
        out.append(source.location.address)
    return out


def test_mirror_rewrites_by_the_longest_prefix_and_keeps_the_rest():
    prefixes = {
        "https://snap.stanford.edu/": "http://proxy/all/",
        "https://snap.stanford.edu/data/web-": "http://proxy/web/",
    }
    mirrored = scienz.mirror(scienz.snap, prefixes)
    addresses = dict(zip(SNAP_NAMES, remote_addresses(mirrored), strict=True))
    assert addresses["web-Google"] == "http://proxy/web/Google.txt.gz"
    assert addresses["ca-GrQc"] == "http://proxy/all/data/ca-GrQc.txt.gz"
    # The original is untouched: concepts are values.
    assert remote_addresses(scienz.snap)[0] == "https://snap.stanford.edu/data/ca-AstroPh.txt.gz"
    assert mirrored != scienz.snap
    assert scienz.mirror(scienz.snap, {}) == scienz.snap
    unchanged = scienz.mirror(scienz.wine, {"https://nowhere.example/": "http://x/"})
    assert unchanged is scienz.wine


def test_mirror_works_after_replication_and_keeps_everything_else():
    orc = replicated(scienz.covtype, "orc")
    mirrored = scienz.mirror(orc, {"https://ndownloader.figshare.com/": "http://m/"})
    (asset,) = mirrored.assets
    assert isinstance(asset.setup, ReplicationStorageSetup)
    assert asset.setup.source.location == WebLocation(address="http://m/files/5976039")
    assert asset.setup.source.sha256 == scienz.covtype.assets[0].setup.remote.sha256
    assert asset.setup.targets == orc.assets[0].setup.targets
    assert asset.schema == orc.assets[0].schema


def test_mirror_can_require_every_address_to_match():
    with pytest.raises(DeclarationError, match=r"(?s)1 address\(es\).*adult\.test.*fix: add a"):
        scienz.mirror(
            scienz.adult,
            {"https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.data": "x"},
            strict=True,
        )
    universe = Universe(name="lab", datasets=[scienz.wine, scienz.iris])
    mirrored = scienz.mirror(universe, {UCI: "http://m/"}, strict=True)
    assert [remote_addresses(d)[0].startswith("http://m/ml/") for d in mirrored.datasets] == [
        True,
        True,
    ]


@pytest.mark.parametrize("prefixes", [["https://x/"], {"": "http://m/"}, {"https://x/": None}])
def test_mirror_rejects_malformed_prefixes(prefixes):
    with pytest.raises(DeclarationError, match="mirror: "):
        scienz.mirror(scienz.wine, prefixes)
    with pytest.raises(DeclarationError, match="expected an aorist concept"):
        scienz.mirror("wine", {})


# ----------------------------------------------------------------------- scaffolding


def aorist_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aorist", *args], capture_output=True, text=True, cwd=cwd
    )


def test_dataset_new_writes_a_sound_module_that_generates_code(tmp_path):
    path = new_dataset("bird_counts", tmp_path / "catalog")
    assert path == tmp_path / "catalog" / "bird_counts.py"
    text = path.read_text()
    assert "TODO" not in text and "https://example.org/bird_counts.csv" in text
    assert_sound(path)
    dataset = load_module(path).bird_counts
    assert isinstance(dataset, DataSet) and dataset.name == "bird_counts"
    code = dag(universe_of(dataset), CONSTRAINTS, "python")
    assert "https://example.org/bird_counts.csv" in code


def test_dataset_new_from_the_command_line_refuses_to_overwrite(tmp_path):
    first = aorist_cli("dataset", "new", "rainfall", "--dir", "cat", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    written = tmp_path / "cat" / "rainfall.py"
    assert f"wrote {Path('cat') / 'rainfall.py'}" in first.stderr
    written.write_text(written.read_text() + "# edited by hand\n")
    again = aorist_cli("dataset", "new", "rainfall", "--dir", "cat", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert written.read_text().endswith("# edited by hand\n")
    # Without --dir, the module goes where the catalog is: tests/test_cli.py.


@pytest.mark.parametrize("name", ["1st", "bird-counts", "with space", "", "_private", "class"])
def test_dataset_new_requires_an_identifier(tmp_path, name):
    with pytest.raises(DeclarationError, match="dataset new: "):
        new_dataset(name, tmp_path)
    assert list(tmp_path.iterdir()) == []
    result = aorist_cli("dataset", "new", name, "--dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "aorist: DeclarationError: dataset new:" in result.stderr


def test_dataset_commands_are_documented():
    result = aorist_cli("dataset", "new", "--help", cwd=REPO_ROOT)
    assert result.returncode == 0
    assert "--dir" in result.stdout and "overwrite" in result.stdout
    assert "dataset" in aorist_cli("--help", cwd=REPO_ROOT).stdout
    guide = (REPO_ROOT / "docs" / "adding-a-dataset.md").read_text()
    for needle in ("aorist dataset new", "scienz.mirror", "Samples", "sha256", "CSVHeader"):
        assert needle in guide, needle
