"""Bad declarations and bad dag() requests fail early, with the right class and a useful message."""

from __future__ import annotations

import re

import pytest

import aorist
from aorist import (
    CSVEncoding,
    CSVHeader,
    DataSet,
    GzipCompression,
    HiveTableStorage,
    IdentifierTuple,
    Int64,
    MinioLocation,
    NumericIdentifier,
    ORCEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    ReplicationStorageSetup,
    SQLiteLocation,
    SQLiteStorage,
    StaticDataTable,
    TSVEncoding,
    Universe,
    WebLocation,
    dag,
    default_tabular_schema,
)

from conftest import CONSTRAINTS
from fixtures_data import snap_dataset

BASE = "http://127.0.0.1:9/data"


def edge_tuple() -> IdentifierTuple:
    return IdentifierTuple(
        name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
    )


def remote_setup(file_name: str = "graph.txt.gz") -> RemoteStorageSetup:
    return RemoteStorageSetup(
        remote=RemoteStorage(
            location=WebLocation(address=f"{BASE}/{file_name}"),
            encoding=TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=4)),
        )
    )


def table(name: str) -> StaticDataTable:
    return StaticDataTable(
        name=name, schema=default_tabular_schema(edge_tuple()), setup=remote_setup()
    )


def small_universe() -> Universe:
    return Universe(
        name="small", datasets=[snap_dataset(BASE, ["ca-GrQc", "web-Google"], dataset="graphs")]
    )


# ----------------------------------------------------------------------- the hierarchy


def test_error_hierarchy():
    assert issubclass(aorist.DeclarationError, aorist.AoristError)
    assert issubclass(aorist.DuplicateNameError, aorist.DeclarationError)
    assert issubclass(aorist.PlanningError, aorist.AoristError)
    for name in (
        "UnknownConstraintError",
        "UnknownDialectError",
        "UnknownLanguageError",
        "NoRecipeError",
        "UnsupportedStorageError",
        "CycleError",
    ):
        cls = getattr(aorist, name)
        assert issubclass(cls, aorist.PlanningError), name
        assert not issubclass(cls, aorist.DeclarationError), name
    assert issubclass(aorist.AoristError, Exception)


# ----------------------------------------------------------------------- declaration errors


def test_duplicate_asset_names():
    with pytest.raises(aorist.DuplicateNameError) as info:
        DataSet(
            name="graphs",
            datum_templates=[edge_tuple()],
            assets=[table("edges"), table("nodes"), table("edges")],
        )
    message = str(info.value)
    assert "edges" in message and "graphs" in message, message


def test_duplicate_dataset_names_in_a_universe():
    first = DataSet(name="graphs", assets=[table("a")])
    second = DataSet(name="graphs", assets=[table("b")])
    with pytest.raises(aorist.DuplicateNameError) as info:
        Universe(name="u", datasets=[first, second])
    assert "graphs" in str(info.value)


def test_duplicate_attribute_names():
    with pytest.raises(aorist.DuplicateNameError) as info:
        IdentifierTuple(
            name="edge", attributes=[NumericIdentifier("node"), NumericIdentifier("node")]
        )
    assert "node" in str(info.value)


@pytest.mark.parametrize("bad", ["from id", "1abc", "a-b", "", "naïve'; --"])
def test_attribute_name_must_be_an_identifier(bad):
    with pytest.raises(aorist.DeclarationError) as info:
        NumericIdentifier(bad)
    message = str(info.value)
    assert "name" in message, message
    assert repr(bad) in message or (bad and bad in message), message


@pytest.mark.parametrize("bad", ["my dataset", "2020data", "snap.graphs"])
def test_dataset_name_must_be_an_identifier(bad):
    with pytest.raises(aorist.DeclarationError) as info:
        DataSet(name=bad)
    assert bad in str(info.value)


def test_wrong_types_are_declaration_errors():
    with pytest.raises(aorist.DeclarationError) as info:
        StaticDataTable(name=3, schema=default_tabular_schema(edge_tuple()), setup=remote_setup())
    assert "name" in str(info.value)
    with pytest.raises(aorist.DeclarationError) as info:
        StaticDataTable(name="t", schema="not a schema", setup=remote_setup())
    assert "schema" in str(info.value)
    with pytest.raises(aorist.DeclarationError):
        DataSet(name="d", assets="edges")
    with pytest.raises(aorist.DeclarationError):
        RemoteStorage(location="http://example.invalid/x", encoding=CSVEncoding())
    with pytest.raises(aorist.DeclarationError):
        NumericIdentifier("a", nullable="yes")


def test_bounds_and_formats_are_validated():
    with pytest.raises(aorist.DeclarationError) as info:
        CSVHeader(num_lines=-1)
    assert "num_lines" in str(info.value)
    with pytest.raises(aorist.DeclarationError) as info:
        RemoteStorage(
            location=WebLocation(address=f"{BASE}/x"), encoding=CSVEncoding(), sha256="not-a-digest"
        )
    assert "sha256" in str(info.value)


# ----------------------------------------------------------------------- values


def test_equality_and_repr_by_value():
    assert NumericIdentifier("a") == NumericIdentifier("a")
    assert NumericIdentifier("a") != NumericIdentifier("b")
    assert NumericIdentifier("a") != Int64("a")
    assert NumericIdentifier("a", comment="x") != NumericIdentifier("a")
    assert edge_tuple() == edge_tuple()
    assert table("edges") == table("edges")
    assert small_universe() == small_universe()

    text = repr(NumericIdentifier("a", comment="the a"))
    assert "NumericIdentifier" in text and "'a'" in text and "'the a'" in text
    location = repr(WebLocation(address=f"{BASE}/x.csv"))
    assert "WebLocation" in location and f"{BASE}/x.csv" in location


def test_replicate_to_local_returns_a_new_dataset():
    original = DataSet(name="graphs", datum_templates=[edge_tuple()], assets=[table("edges")])
    before = repr(original)
    local = HiveTableStorage(location=MinioLocation(name="graphs"), encoding=ORCEncoding())
    replicated = original.replicate_to_local(local, "tmp/graphs", CSVEncoding())

    assert replicated is not original
    assert repr(original) == before
    assert isinstance(original.assets[0].setup, RemoteStorageSetup)
    setup = replicated.assets[0].setup
    assert isinstance(setup, ReplicationStorageSetup)
    assert setup.source == original.assets[0].setup.remote
    assert setup.targets == [local]
    assert setup.tmp_dir == "tmp/graphs"
    assert setup.tmp_encoding == CSVEncoding()
    assert [a.name for a in replicated.assets] == ["edges"]
    assert replicated.name == original.name


# ----------------------------------------------------------------------- planning errors


def test_unknown_constraint_lists_the_valid_ones():
    with pytest.raises(aorist.UnknownConstraintError) as info:
        dag(small_universe(), ["AllTheThingsDone"], "python")
    message = str(info.value)
    assert "AllTheThingsDone" in message and "AllAssetsComputed" in message, message


def test_unknown_dialect_lists_python():
    with pytest.raises(aorist.UnknownDialectError) as info:
        dag(small_universe(), CONSTRAINTS, "cobol")
    message = str(info.value)
    assert "cobol" in message and "python" in message, message


def test_unknown_language_preference():
    with pytest.raises(aorist.UnknownLanguageError) as info:
        dag(small_universe(), CONSTRAINTS, "python", preferences=["cobol"])
    message = str(info.value)
    assert "cobol" in message and "python" in message, message


def test_no_recipe_in_the_preferred_languages():
    universe = small_universe()
    with pytest.raises(aorist.NoRecipeError) as info:
        dag(universe, CONSTRAINTS, "python", preferences=["python"])
    message = str(info.value)
    assert "python" in message, f"should list the languages tried: {message}"
    # The constraint without a recipe is named (constraint names are CamelCase) ...
    assert re.search(r"\b[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+\b", message), message
    # ... and so is the concept it applies to.
    assert any(name in message for name in ("small", "graphs", "ca_grqc", "web_google")), message


def test_unsupported_target_storage_suggests_hive():
    graphs = DataSet(name="graphs", datum_templates=[edge_tuple()], assets=[table("edges")])
    with pytest.raises(aorist.UnsupportedStorageError) as info:
        replicated = graphs.replicate_to_local(
            SQLiteStorage(location=SQLiteLocation(file_name="x.db")), "tmp/graphs", CSVEncoding()
        )
        dag(Universe(name="u", datasets=[replicated]), CONSTRAINTS, "python")
    message = str(info.value)
    assert "edges" in message and "HiveTableStorage" in message, message


def test_planning_errors_are_not_raised_for_valid_requests():
    code = dag(small_universe(), CONSTRAINTS, "python")
    assert isinstance(code, str) and code
    assert dag(small_universe(), CONSTRAINTS) == code, "dialect defaults to python"
