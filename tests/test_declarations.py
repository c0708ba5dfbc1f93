"""Bad declarations and bad dag() requests fail early, with the right class and a useful message."""

from __future__ import annotations

import inspect
import json
import re
import tomllib
from pathlib import Path

import pytest

import aorist
from aorist import (
    ATTRIBUTE_KINDS,
    CONCEPT_KINDS,
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
    RoleBinding,
    RowStruct,
    SQLiteLocation,
    SQLiteStorage,
    StaticDataTable,
    TabularSchema,
    TSVEncoding,
    Universe,
    User,
    UserGroup,
    WebLocation,
    _concepts,
    dag,
    dag_files,
    default_tabular_schema,
    explain,
    stage,
)

from conftest import CONSTRAINTS
from fixtures_data import snap_dataset

BASE = "http://127.0.0.1:9/data"
CONCEPTS_TOML = Path(__file__).resolve().parent.parent / "concepts" / "concepts.toml"
FAMILIES = sorted(tomllib.loads(CONCEPTS_TOML.read_text())["family"])


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
        "UnknownStageError",
        "UnknownFormatError",
    ):
        cls = getattr(aorist, name)
        assert issubclass(cls, aorist.PlanningError), name
        assert not issubclass(cls, aorist.DeclarationError), name
    assert issubclass(aorist.UnknownReferenceError, aorist.DeclarationError)
    # stage() and explain() raised ValueError before they had classes of their own.
    assert issubclass(aorist.UnknownStageError, ValueError)
    assert issubclass(aorist.UnknownFormatError, ValueError)
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
    first = DataSet(name="graphs", datum_templates=[edge_tuple()], assets=[table("a")])
    second = DataSet(name="graphs", datum_templates=[edge_tuple()], assets=[table("b")])
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
        # Alone (unfused), TemporaryTableCreated has a SQL recipe only.
        dag(universe, CONSTRAINTS, "python", preferences=["python"], fuse=False)
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


# ----------------------------------------------------------------------- names differing in case


def row(name: str, *columns: str) -> RowStruct:
    return RowStruct(name=name, attributes=[NumericIdentifier(c) for c in columns])


CASE_COLLISIONS = {
    "row attributes": lambda: row("edge", "from_id", "to_id", "From_Id"),
    "tuple attributes": lambda: IdentifierTuple(
        name="edge", attributes=[NumericIdentifier("node"), NumericIdentifier("NODE")]
    ),
    "schema attributes": lambda: TabularSchema(
        datum_template=edge_tuple(),
        attributes=[NumericIdentifier("from_id"), NumericIdentifier("FROM_ID")],
    ),
    "assets": lambda: DataSet(
        name="graphs", datum_templates=[edge_tuple()], assets=[table("edges"), table("EDGES")]
    ),
    "datum templates": lambda: DataSet(
        name="graphs", datum_templates=[edge_tuple(), row("Edge", "a")]
    ),
    "datasets": lambda: Universe(name="u", datasets=[DataSet(name="g"), DataSet(name="G")]),
    "users": lambda: Universe(name="u", users=[User(unixname="ann"), User(unixname="Ann")]),
    "groups": lambda: Universe(name="u", groups=[UserGroup(name="ops"), UserGroup(name="OPS")]),
}


@pytest.mark.parametrize("case", sorted(CASE_COLLISIONS))
def test_names_differing_only_in_case_collide(case):
    with pytest.raises(aorist.DuplicateNameError) as info:
        CASE_COLLISIONS[case]()
    message = str(info.value)
    assert "differ only in case" in message and "fix:" in message, message
    names = re.findall(r"named '(\w+)' and '(\w+)'", message)
    assert names and names[0][0] != names[0][1], message
    assert names[0][0].lower() == names[0][1].lower(), message


def test_names_differing_in_case_in_separate_lists_do_not_collide():
    first = DataSet(name="a", datum_templates=[edge_tuple()], assets=[table("edges")])
    second = DataSet(name="b", datum_templates=[edge_tuple()], assets=[table("EDGES")])
    universe = Universe(name="u", datasets=[first, second])
    assert json.loads(stage(universe, CONSTRAINTS, "compressed"))


# ----------------------------------------------------------------------- bad calls of classes


def concept_classes() -> list[type]:
    return [getattr(_concepts, name) for name in (*CONCEPT_KINDS, *ATTRIBUTE_KINDS)]


@pytest.mark.parametrize("family", [*FAMILIES, "Concept"])
def test_family_classes_are_not_constructed(family):
    cls = getattr(_concepts, family)
    attempts = [lambda: cls(), lambda: cls("x"), lambda: cls(name="x", location=None)]
    for attempt in attempts:
        with pytest.raises(aorist.DeclarationError) as info:
            attempt()
        message = str(info.value)
        assert message.startswith(f"{family}: ") and "fix: construct" in message, message
        named = re.findall(r"\b[A-Z]\w+", message.split("fix:")[1])
        assert named, message
        for name in named:
            concrete = getattr(_concepts, name)
            assert issubclass(concrete, cls) and concrete is not cls, name


@pytest.mark.parametrize("cls", concept_classes(), ids=lambda c: c.__name__)
def test_unknown_arguments_name_the_class_and_its_arguments(cls):
    with pytest.raises(aorist.DeclarationError) as info:
        cls(no_such_argument=1)
    message = str(info.value)
    assert message.startswith(cls.__name__) and "'no_such_argument'" in message, message
    for field in cls._fields:
        assert field.name in message.split("fix:")[1], (field.name, message)


@pytest.mark.parametrize("cls", concept_classes(), ids=lambda c: c.__name__)
def test_missing_and_surplus_arguments_name_the_class(cls):
    required = [f.name for f in cls._fields if f.default is None]
    if required:
        with pytest.raises(aorist.DeclarationError) as info:
            cls()
        message = str(info.value)
        assert message.startswith(cls.__name__) and "missing required argument" in message
        for name in required:
            assert f"{name}=..." in message, message
    with pytest.raises(aorist.DeclarationError) as info:
        cls(*range(len(cls._fields) + 1))
    message = str(info.value)
    assert message.startswith(cls.__name__) and "positional arguments given" in message


def test_an_argument_given_twice_is_a_declaration_error():
    with pytest.raises(aorist.DeclarationError) as info:
        NumericIdentifier("a", name="b")
    assert "'name' is given both by position and by keyword" in str(info.value)


def test_the_signature_of_a_class_is_that_of_its_constructor():
    parameters = inspect.signature(StaticDataTable).parameters
    assert list(parameters) == ["name", "schema", "setup", "tag", "comment"]
    assert parameters["tag"].default is None


# ----------------------------------------------------------------------- every field, bad values


def valid(type_: str):
    """A valid value of a declared field type (concepts: their first concrete class)."""
    if type_.startswith("optional["):
        return None
    if type_.startswith("list["):
        return []
    scalars = {"str": "x", "identifier": "x", "env_var": "X", "sha256": "0" * 64}
    if type_ in scalars:
        return scalars[type_]
    if type_ == "int":
        return 1
    if type_ == "float":
        return 1.0
    if type_ == "roles":
        return {"x": "x"}
    if type_ == "bool":
        return False
    cls = getattr(_concepts, type_)
    if cls._abstract:
        cls = next(c for c in concept_classes() if issubclass(c, cls))
    return build(cls)


def build(cls: type, **overrides):
    values = {f.name: valid(f.type) for f in cls._fields if f.default is None}
    return cls(**{**values, **overrides})


def fields_of(kinds: tuple[str, ...]) -> list[tuple[type, str, str]]:
    return [
        (cls, field.name, field.type)
        for cls in concept_classes()
        for field in cls._fields
        if re.sub(r"^(optional|list)\[(.*)\]$", r"\2", field.type) in kinds
    ]


STRING_FIELDS = fields_of(("str", "identifier", "env_var", "sha256"))
INT_FIELDS = fields_of(("int",))
LIST_FIELDS = [
    (cls, field.name, field.type)
    for cls in concept_classes()
    for field in cls._fields
    if field.type.startswith("list[")
]


def ids(fields):
    return [f"{cls.__name__}.{name}" for cls, name, _ in fields]


@pytest.mark.parametrize(("cls", "name", "type_"), STRING_FIELDS, ids=ids(STRING_FIELDS))
@pytest.mark.parametrize(
    ("text", "cause"),
    [("ab\ud800c", "lone surrogate '\\ud800' at position 2"), ("ab\x00c", "NUL character")],
    ids=["surrogate", "nul"],
)
def test_strings_that_cannot_cross_into_generated_code_are_refused(cls, name, type_, text, cause):
    value = [text] if type_.startswith("list[") else text
    with pytest.raises(aorist.DeclarationError) as info:
        build(cls, **{name: value})
    message = str(info.value)
    assert f".{name}" in message and cause in message and "fix:" in message, message


@pytest.mark.parametrize(("cls", "name", "type_"), INT_FIELDS, ids=ids(INT_FIELDS))
def test_ints_must_fit_in_64_bits(cls, name, type_):
    assert getattr(build(cls, **{name: 2**63 - 1}), name) == 2**63 - 1
    for value in (2**63, 10**30, -(2**63) - 1):
        with pytest.raises(aorist.DeclarationError) as info:
            build(cls, **{name: value})
        assert f".{name}: {value}" in str(info.value), str(info.value)


def test_the_largest_int_crosses_into_the_core():
    header = CSVHeader(num_lines=2**63 - 1)
    data = DataSet(
        name="graphs",
        datum_templates=[edge_tuple()],
        assets=[
            StaticDataTable(
                name="edges",
                schema=default_tabular_schema(edge_tuple()),
                setup=RemoteStorageSetup(
                    remote=RemoteStorage(
                        location=WebLocation(address=f"{BASE}/x.tsv"),
                        encoding=TSVEncoding(header=header),
                    )
                ),
            )
        ],
    )
    bound = stage(Universe(name="u", datasets=[data]), CONSTRAINTS, "bound")
    assert str(2**63 - 1) in bound


@pytest.mark.parametrize(("cls", "name", "type_"), LIST_FIELDS, ids=ids(LIST_FIELDS))
def test_a_list_containing_itself_is_a_declaration_error(cls, name, type_):
    looped: list = []
    looped.append(looped)
    with pytest.raises(aorist.DeclarationError) as info:
        build(cls, **{name: looped})
    assert f".{name}[0]: the list contains itself" in str(info.value)
    with pytest.raises(aorist.DeclarationError):
        build(cls, **{name: [looped]})


# ----------------------------------------------------------------------- references


def test_a_schema_names_a_datum_template_of_its_dataset():
    with pytest.raises(aorist.UnknownReferenceError) as info:
        DataSet(name="graphs", datum_templates=[row("edges", "a")], assets=[table("t")])
    message = str(info.value)
    assert message.startswith("DataSet 'graphs'.assets[0] ('t').schema.datum_template: 'edge'")
    assert "use 'edges'" in message, message
    with pytest.raises(aorist.UnknownReferenceError) as info:
        DataSet(name="graphs", assets=[table("t")])
    assert "none is declared" in str(info.value)


def test_add_asset_checks_the_datum_template_and_leaves_the_dataset_as_it_was():
    graphs = DataSet(name="graphs", datum_templates=[edge_tuple()], assets=[table("edges")])
    other = StaticDataTable(
        name="nodes", schema=default_tabular_schema(row("node", "id")), setup=remote_setup()
    )
    with pytest.raises(aorist.UnknownReferenceError) as info:
        graphs.add_asset(other)
    assert "assets[1] ('nodes').schema.datum_template: 'node'" in str(info.value)
    assert [a.name for a in graphs.assets] == ["edges"]
    graphs.add_asset(table("more_edges"))
    assert [a.name for a in graphs.assets] == ["edges", "more_edges"]
    with pytest.raises(aorist.DuplicateNameError):
        graphs.add_asset(table("MORE_EDGES"))


def people(**changes) -> Universe:
    data = DataSet(
        name="graphs",
        datum_templates=[edge_tuple()],
        assets=[table("edges")],
        access_policies=changes.pop(
            "policies", ["user:ann", "group:analysts", "role:reader", "anyone in the lab"]
        ),
    )
    fields = {
        "users": [User(unixname="ann"), User(unixname="bob")],
        "groups": [UserGroup(name="analysts", members=["ann", "bob"])],
        "role_bindings": [RoleBinding(user_name="bob", role="reader")],
        **changes,
    }
    return Universe(name="lab", datasets=[data], **fields)


def test_declared_people_and_roles_are_accepted_and_planned():
    universe = people()
    assert dag(universe, CONSTRAINTS, "python")
    assert list(dag_files(universe, CONSTRAINTS, "python", split="dataset")) == ["lab_graphs.py"]


@pytest.mark.parametrize(
    ("changes", "path", "unknown", "nearest"),
    [
        (
            {"groups": [UserGroup(name="analysts", members=["ann", "bobby"])]},
            "Universe 'lab'.groups[0] ('analysts').members[1]",
            "'bobby' is not a declared user",
            "use 'bob'",
        ),
        (
            {"role_bindings": [RoleBinding(user_name="an", role="reader")]},
            "Universe 'lab'.role_bindings[0].user_name",
            "'an' is not a declared user",
            "use 'ann'",
        ),
        (
            {"policies": ["user:anne"]},
            "Universe 'lab'.datasets[0] ('graphs').access_policies[0]",
            "'anne' is not a declared user",
            "use 'ann'",
        ),
        (
            {"policies": ["note: shared", "Group: analyst"]},
            "Universe 'lab'.datasets[0] ('graphs').access_policies[1]",
            "'analyst' is not a declared group",
            "use 'analysts'",
        ),
        (
            {"policies": ["role:readers"]},
            "Universe 'lab'.datasets[0] ('graphs').access_policies[0]",
            "'readers' is not a declared role",
            "use 'reader'",
        ),
        (
            {"users": [], "groups": [], "role_bindings": [], "policies": ["role:admin"]},
            "Universe 'lab'.datasets[0] ('graphs').access_policies[0]",
            "'admin' is not a declared role (none is declared)",
            "fix: bind the role",
        ),
    ],
    ids=["group member", "role binding", "user policy", "group policy", "role policy", "none"],
)
def test_people_and_roles_are_declared_before_use(changes, path, unknown, nearest):
    with pytest.raises(aorist.UnknownReferenceError) as info:
        people(**changes)
    message = str(info.value)
    assert message.startswith(f"{path}: {unknown}"), message
    assert nearest in message, message


# ----------------------------------------------------------------------- bad dag() arguments


@pytest.mark.parametrize("dialect", [["python"], None, 3, ("python",)])
def test_a_dialect_that_is_not_a_name(dialect):
    for call in (
        lambda: dag(small_universe(), CONSTRAINTS, dialect),
        lambda: dag_files(small_universe(), CONSTRAINTS, dialect),
        lambda: stage(small_universe(), CONSTRAINTS, "dag_text", dialect),
    ):
        with pytest.raises(aorist.UnknownDialectError) as info:
            call()
        assert repr(dialect) in str(info.value) and "python" in str(info.value)


@pytest.mark.parametrize("bad", ["optimised", ["dag"], None])
def test_an_unknown_stage(bad):
    with pytest.raises(aorist.UnknownStageError) as info:
        stage(small_universe(), CONSTRAINTS, bad)
    assert isinstance(info.value, ValueError)
    assert repr(bad) in str(info.value) and "dag_text" in str(info.value)


@pytest.mark.parametrize("bad", ["svg", ["dot"], None])
def test_an_unknown_explain_format(bad):
    with pytest.raises(aorist.UnknownFormatError) as info:
        explain(small_universe(), CONSTRAINTS, bad)
    assert isinstance(info.value, ValueError)
    assert repr(bad) in str(info.value) and "text, dot" in str(info.value)


def test_every_attribute_kind_takes_the_fields_the_taxonomy_declares():
    """The fields of attributes.toml, in order, are every kind's keyword arguments."""
    toml = Path(__file__).parent.parent / "concepts" / "attributes.toml"
    taxonomy = tomllib.loads(toml.read_text())
    names = [field["name"] for field in taxonomy["fields"]]
    for kind in aorist.ATTRIBUTE_KINDS:
        assert list(inspect.signature(getattr(aorist, kind)).parameters) == names, kind


def test_contracts_that_fit_their_kind_are_kept_by_value():
    from aorist import Boolean, Categorical, Count, Float64, StringIdentifier

    weight = Float64("weight", min=0, max=1)
    # A bound on a float column is a float: labels and checks read 0.0.
    assert (weight.min, weight.max) == (0.0, 1.0) and isinstance(weight.min, float)
    assert repr(weight) == "Float64(name='weight', min=0.0, max=1.0)"
    assert weight != Float64("weight", min=0, max=2)
    label = Categorical("label", accepted_values=("red", "green"), unique=True)
    assert label.accepted_values == ["red", "green"] and label.unique
    assert label.to_tree()["accepted_values"] == ["red", "green"]
    assert Count("n", min=0).min == 0 and Count("n").to_tree()["min"] is None
    assert StringIdentifier("code", regex="[A-Z]{2}[0-9]*").regex == "[A-Z]{2}[0-9]*"
    assert Boolean("flag", accepted_values=[True]).accepted_values == [True]
    # A bound of 0 is declared (and refused on a kind it does not fit).
    with pytest.raises(aorist.DeclarationError, match=r"Boolean 'flag'\.min: a minimum applies"):
        Boolean("flag", min=0)
