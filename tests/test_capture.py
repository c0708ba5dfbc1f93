"""Python function assets: what `capture` copies into the generated program, what it
refuses and why, `derived_tables(module)`, and the declaration checks of
`ComputedFromLocalData` (roles, SQL placeholders) and of float fields.

A captured function is run from its captured text alone (its imports and source
executed in an empty namespace): that is all the generated program has of it.
"""

from __future__ import annotations

import importlib.util
import linecache
import math
import sys
import textwrap
from pathlib import Path

import numpy
import pyarrow as pa
import pytest

from aorist import (
    ComputedFromLocalData,
    DataSet,
    DeclarationError,
    HiveTableStorage,
    IdentifierTuple,
    LogisticRegressionAlgorithm,
    MinioLocation,
    NumericIdentifier,
    ParquetEncoding,
    PythonFunction,
    StaticDataTable,
    SVMRegressionAlgorithm,
    UndefinedTabularSchema,
    UnknownReferenceError,
    default_tabular_schema,
    derived_tables,
)
from aorist._capture import capture

sys.path.insert(0, str(Path(__file__).resolve().parent / "cases"))

import capture_annotations  # noqa: E402
import capture_cases  # noqa: E402
import derived_module  # noqa: E402
from capture_pkg import tables as relative_tables  # noqa: E402

WHERE = "ComputedFromLocalData.function"
LAKE = HiveTableStorage(location=MinioLocation(name="derived"), encoding=ParquetEncoding())
EDGES = pa.table({"from_id": [1, 1, 2, 3, 4], "to_id": [2, 3, 3, 1, 1]})


def computed(function, roles=None) -> ComputedFromLocalData:
    return ComputedFromLocalData(
        source_asset_names=roles or {"edges": "edges"}, target=LAKE, function=function
    )


def run_captured(captured: PythonFunction, **tables):
    """Call the function as the generated program has it: its imports and source only."""
    namespace: dict = {"__name__": "generated"}
    exec("\n".join([*captured.imports, "", captured.source]), namespace)  # noqa: S102
    return namespace[captured.name](**tables)


def load_module(tmp_path: Path, monkeypatch, name: str, text: str):
    """Import `text` as the module `name` from a file under `tmp_path`."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def assert_message(error: pytest.ExceptionInfo, *parts: str) -> None:
    message = str(error.value)
    assert "; fix: " in message, message
    for part in parts:
        assert part in message, (part, message)


# --------------------------------------------------------------------------- what is copied


def test_imports_are_the_module_lines_the_function_uses() -> None:
    """Aliases, submodules with and without alias and from-imports (aliased or not) are
    found, one normalised line each; builtins and the function's own name need none;
    imports no function uses are left out."""
    captured = computed(capture_cases.uses_imports).function
    assert captured.name == "uses_imports"
    assert captured.module == "capture_cases"
    assert captured.imports == [
        "from collections import Counter",
        "from collections import OrderedDict as Ordered",
        "from json import dumps as to_json",
        "import os.path",
        "import pyarrow as pa",
        "import pyarrow.compute",
        "import pyarrow.compute as pc",
        "import xml.etree.ElementTree as ET",
    ]
    assert captured.source.startswith("def uses_imports(edges: pa.Table) -> pa.Table:\n")
    assert captured.parameters() == ["edges"]
    expected = capture_cases.uses_imports(EDGES)
    assert run_captured(captured, edges=EDGES).equals(expected)


@pytest.mark.parametrize(
    ("function", "imports"),
    [
        (capture_cases.reads_builtins, ["import pyarrow as pa"]),
        (capture_cases.keyword_only, ["import pyarrow as pa"]),
        (capture_cases.string_annotation, ["from collections import Counter"]),
        (capture_cases.indented, ["import pyarrow as pa"]),
        (
            relative_tables.relative,
            [
                "from capture_pkg import helpers",
                "from capture_pkg import helpers as h",
                "from capture_pkg.helpers import first_rows",
                "import pyarrow as pa",
            ],
        ),
    ],
    ids=lambda value: None if isinstance(value, list) else value.__name__,
)
def test_captured_functions_run_from_their_text(function, imports) -> None:
    """Keyword-only parameters, string annotations, a def indented by a top-level block
    (dedented) and relative imports (resolved against the package) are captured."""
    captured = capture(function, WHERE)
    assert captured.imports == imports
    assert captured.source.startswith(f"def {function.__name__}(")
    assert run_captured(captured, edges=EDGES).equals(function(edges=EDGES))


def test_a_global_module_imported_elsewhere_is_imported_by_its_name(monkeypatch) -> None:
    """A notebook cell uses a module another cell imported: the source of the cell has
    no import line, but the global's value is a module, imported by its own name."""
    source = "def as_numbers(edges):\n    return np.asarray(edges.column('to_id'))\n"
    filename = "<cell-2>"
    monkeypatch.setitem(
        linecache.cache, filename, (len(source), None, source.splitlines(True), filename)
    )
    namespace = {"__name__": "notebook", "np": numpy, "pyarrow": pa}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    captured = capture(namespace["as_numbers"], WHERE)
    assert captured.imports == ["import numpy as np"]
    assert list(run_captured(captured, edges=EDGES)) == [2, 3, 3, 1, 1]


# --------------------------------------------------------------------------- what is refused


def test_a_lambda_is_refused() -> None:
    with pytest.raises(DeclarationError) as error:
        computed(lambda edges: edges)
    assert str(error.value) == (
        f"ComputedFromLocalData.function: {__name__}.test_a_lambda_is_refused.<locals>."
        "<lambda> is a lambda, which has no name and no source of its own to copy into the "
        "generated program; fix: define it with def at the top level of a module, e.g. "
        "def <asset name>(<role>, ...): return ..."
    )


TOP_LEVEL = "fix: define it with def at the top level of a module (a .py file) and pass it"
NO_DECORATORS = "fix: pass a function without decorators"
KEYWORDS = "the generated program calls it with one keyword argument per role"


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        (len, ["len is a builtin (implemented in C)", "fix: define a function at the top"]),
        (
            capture_cases.Counter,
            ["collections.Counter is a class, not a function", TOP_LEVEL],
        ),
        (
            capture_cases.callable_object,
            ["expected a function, got a callable capture_cases.CallableTable object", TOP_LEVEL],
        ),
        (
            capture_cases.partial,
            [
                "functools.partial(helper, ...) is not a function",
                "fix: define a function at the top level of a module that calls helper",
            ],
        ),
        ("uses_imports", ["expected a function, got str 'uses_imports'", TOP_LEVEL]),
        (
            capture_cases.Holder().method,
            ["Holder.method is a method (bound to a Holder)", TOP_LEVEL],
        ),
        (
            capture_cases.Holder.static,
            ["capture_cases.Holder.static is defined in the class Holder", TOP_LEVEL],
        ),
        (
            capture_cases.closure,
            [
                "capture_cases.make_closure.<locals>.closure is defined inside another "
                "function and uses its variables n",
                "fix: define it at the top level of a module",
            ],
        ),
        (
            capture_cases.nested,
            [
                "capture_cases.make_nested.<locals>.nested is defined inside another function,",
                "fix: define it at the top level of a module",
            ],
        ),
        (
            capture_cases.decorated_without_wraps,
            [
                "capture_cases.plain_decorator.<locals>.wrapper is defined inside another",
                "if it is the wrapper a decorator returned, remove the decorator",
            ],
        ),
        (
            capture_cases.wrapped,
            ["capture_cases.wrapped is decorated (what is passed is a wrapper", NO_DECORATORS],
        ),
        (
            capture_cases.cached,
            ["capture_cases.cached is decorated (what is passed is a wrapper", NO_DECORATORS],
        ),
        (
            capture_cases.registered,
            ["capture_cases.registered is decorated (@register)", NO_DECORATORS],
        ),
        (
            capture_cases.generator,
            ["capture_cases.generator is a generator function", "fix: return a pyarrow.Table"],
        ),
        (
            capture_cases.coroutine,
            ["capture_cases.coroutine is defined with async def", "fix: define it with def"],
        ),
        (
            capture_cases.async_generator,
            ["capture_cases.async_generator is defined with async def", "fix: define it with def"],
        ),
        (
            capture_cases.star_args,
            ["capture_cases.star_args takes *tables", KEYWORDS, "fix: name each source table"],
        ),
        (
            capture_cases.star_kwargs,
            ["capture_cases.star_kwargs takes **tables", KEYWORDS, "fix: name each source table"],
        ),
        (
            capture_cases.positional_only,
            [
                "capture_cases.positional_only takes positional-only parameters (edges)",
                "fix: remove the / from its parameters",
            ],
        ),
        (
            capture_cases.with_default,
            [
                "the parameter 'nodes' of capture_cases.with_default has a default value",
                "fix: remove the default",
            ],
        ),
        (
            capture_cases.keyword_with_default,
            [
                "the parameter 'edges' of capture_cases.keyword_with_default has a default",
                "fix: remove the default",
            ],
        ),
        (
            capture_cases.declares_global,
            [
                "capture_cases.declares_global declares global SCALE",
                "fix: remove the global statement",
            ],
        ),
        (
            capture_cases.uses_helper,
            [
                "capture_cases.uses_helper reads the global name 'helper' (a function) of its "
                "module, which its module does not import",
                "the generated program copies only the function and the imports it uses",
                "fix: define helper inside uses_helper(), or import it there (e.g. "
                "`from capture_cases import helper` in its body",
            ],
        ),
        (
            capture_cases.uses_constant,
            [
                "reads the global name 'SCALE' (a variable of type int) of its module",
                "fix: define SCALE inside uses_constant()",
            ],
        ),
        (
            capture_cases.uses_helper_and_constant,
            [
                "reads the global names 'SCALE' (a variable of type int), 'helper' (a "
                "function) of its module",
                "fix: define SCALE, helper inside uses_helper_and_constant(), or import them",
            ],
        ),
        (
            capture_cases.nested_scopes,
            [
                "capture_cases.nested_scopes reads the global names 'SCALE'",
                "'helper' (a function)",
            ],
        ),
        (
            capture_cases.uses_undefined,
            [
                "capture_cases.uses_undefined reads the name 'undefined_name'",
                "neither its module nor Python's builtins define",
                "fix: import undefined_name inside the function",
            ],
        ),
        (
            capture_annotations.annotated_with_a_type_checking_import,
            [
                "annotated_with_a_type_checking_import reads the name 'pandas' (in its "
                "body, annotations or defaults)",
                "an import under `if TYPE_CHECKING:` is not enough",
            ],
        ),
    ],
    ids=lambda value: (
        None if isinstance(value, list) else getattr(value, "__qualname__", type(value).__name__)
    ),
)
def test_functions_that_cannot_be_captured_are_refused(value, parts) -> None:
    """Each refusal names the declaration, what the function is and the fix."""
    with pytest.raises(DeclarationError) as error:
        computed(value)
    assert str(error.value).startswith(f"{WHERE}: "), error.value
    assert_message(error, *parts)


def test_a_function_without_source_is_refused() -> None:
    """Defined by exec (or in a REPL): inspect cannot read its source."""
    namespace: dict = {"__name__": "session"}
    exec("def from_repl(edges):\n    return edges\n", namespace)  # noqa: S102
    with pytest.raises(DeclarationError) as error:
        computed(namespace["from_repl"])
    assert_message(
        error,
        f"{WHERE}: the source of session.from_repl cannot be read (",
        "it was defined in an interactive session or by exec",
        TOP_LEVEL,
    )


def test_a_function_whose_file_changed_since_import_is_refused(tmp_path, monkeypatch) -> None:
    module = load_module(
        tmp_path, monkeypatch, "edited_tables", "def table(edges):\n    return edges\n"
    )
    (tmp_path / "edited_tables.py").write_text(
        "def table(edges, nodes):\n    return edges\n", encoding="utf-8"
    )
    with pytest.raises(DeclarationError) as error:
        computed(module.table)
    assert_message(
        error,
        f"{WHERE}: the source file of edited_tables.table defines table(edges, nodes), but "
        "the loaded function takes (edges): the file changed since it was imported",
        "fix: import the module again",
    )


def test_parameters_must_be_the_roles() -> None:
    with pytest.raises(DeclarationError) as error:
        computed(capture_cases.uses_imports, {"nodes": "nodes"})
    assert_message(
        error, "ComputedFromLocalData.function: uses_imports(edges)", "roles of source_asset_names"
    )


# --------------------------------------------------------------------------- by hand


def test_a_python_function_declared_by_hand_is_checked() -> None:
    good = PythonFunction(
        name="first",
        source="def first(edges):\n    return pa.table({'n': [len(edges)]})\n",
        imports=["import pyarrow as pa"],
    )
    assert computed(good).function == good
    assert run_captured(good, edges=EDGES).column("n").to_pylist() == [5]


@pytest.mark.parametrize(
    ("source", "imports", "parts"),
    [
        ("x = 1\n", [], ["PythonFunction 'f'.source: the source of f is not exactly one def"]),
        (
            "def f(edges):\n    return edges\ndef g(edges):\n    return edges\n",
            [],
            ["the source of f is not exactly one def of f (it holds: FunctionDef, FunctionDef)"],
        ),
        ("def g(edges):\n    return edges\n", [], ["is not exactly one def of f"]),
        ("def f(edges:\n", [], ["the source of f is not valid Python"]),
        ("async def f(edges):\n    return edges\n", [], ["f is defined with async def"]),
        ("@cache\ndef f(edges):\n    return edges\n", [], ["f is decorated (@cache)"]),
        ("def f(*edges):\n    return edges\n", [], ["f takes *edges"]),
        ("def f(edges=1):\n    return edges\n", [], ["the parameter 'edges' of f has a default"]),
        (
            "def f(edges):\n    return pc.sum(edges)\n",
            ["import pyarrow as pa"],
            ["PythonFunction 'f'.source: reads 'pc', which is neither a builtin nor bound by"],
        ),
        (
            "def f(edges):\n    return edges\n",
            ["import os; os.remove('x')"],
            ["PythonFunction 'f'.imports[0]: \"import os; os.remove('x')\" is not one absolute"],
        ),
        (
            "def f(edges):\n    return edges\n",
            ["import os\nimport sys"],
            ["PythonFunction 'f'.imports[0]: 'import os\\nimport sys' is not one absolute"],
        ),
        (
            "def f(edges):\n    return edges\n",
            ["from . import x"],
            ["PythonFunction 'f'.imports[0]: 'from . import x' is not one absolute import"],
        ),
        (
            "def f(edges):\n    return edges\n",
            ["from os import *"],
            ["PythonFunction 'f'.imports[0]: 'from os import *' is not one absolute import"],
        ),
        (
            "def f(edges):\n    return edges\n",
            ["print('hello')"],
            ["PythonFunction 'f'.imports[0]: \"print('hello')\" is not one absolute import"],
        ),
        (
            "def f(edges):\n    return edges\n",
            ["import"],
            ["PythonFunction 'f'.imports[0]: 'import' is not an import statement"],
        ),
    ],
)
def test_bad_python_functions_declared_by_hand_are_refused(source, imports, parts) -> None:
    with pytest.raises(DeclarationError) as error:
        PythonFunction(name="f", source=source, imports=imports)
    assert_message(error, *parts)


# --------------------------------------------------------------------------- derived_tables


def test_derived_tables_of_a_module() -> None:
    """One table per public function defined in the module, in source order; private
    helpers, imported functions, constants and classes are not tables."""
    tables = derived_tables(derived_module, LAKE)
    assert [t.name for t in tables] == ["in_degree", "hub_in_degree", "edge_summary"]
    roles = [t.setup.source_asset_names for t in tables]
    assert roles == [
        {"edges": "edges"},
        {"hubs": "hubs", "in_degree": "in_degree"},
        {"edges": "edges"},
    ]
    for table in tables:
        assert table.schema == UndefinedTabularSchema()
        assert table.setup.target == LAKE
        assert table.setup.sql is None
        assert table.setup.function == capture(getattr(derived_module, table.name), WHERE)
    assert [t.comment for t in tables] == [
        "Nodes and how many edges arrive at each.",
        "In-degrees of the hubs: a function of a SQL table and of another function's table.",
        "One row: the number of edges and of distinct source nodes (a pandas result).",
    ]
    assert [t.setup.function.imports for t in tables] == [
        ["from collections import Counter", "import pyarrow as pa"],
        ["from pyarrow import Table", "import pyarrow as pa", "import pyarrow.compute as pc"],
        ["import pandas as pd", "import pyarrow as pa"],
    ]
    in_degree = run_captured(tables[0].setup.function, edges=EDGES)
    assert in_degree.to_pydict() == {"node": [1, 2, 3], "in_degree": [2, 1, 2]}
    hubs = pa.table({"node": [1, 3]})
    hub_in_degree = run_captured(tables[1].setup.function, hubs=hubs, in_degree=in_degree)
    assert hub_in_degree.to_pydict() == {"node": [1, 3], "in_degree": [2, 2]}
    summary = run_captured(tables[2].setup.function, edges=EDGES)
    assert summary.to_dict("list") == {"edges": [5], "sources": [4]}
    edge = IdentifierTuple(
        name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
    )
    dataset = DataSet(name="graphs", datum_templates=[edge], assets=tables)
    assert [a.name for a in dataset.assets] == [t.name for t in tables]


def test_derived_tables_with_declared_schemas() -> None:
    row = IdentifierTuple(
        name="in_degree_row",
        attributes=[NumericIdentifier("node"), NumericIdentifier("in_degree")],
    )
    schema = default_tabular_schema(row)
    tables = derived_tables(derived_module, LAKE, schemas={"in_degree": schema})
    assert tables[0].schema == schema
    assert tables[1].schema == UndefinedTabularSchema()


def test_derived_tables_refuses_bad_input(tmp_path, monkeypatch) -> None:
    with pytest.raises(UnknownReferenceError) as error:
        derived_tables(derived_module, LAKE, schemas={"in_degre": UndefinedTabularSchema()})
    assert_message(
        error,
        "derived_tables(derived_module).schemas: 'in_degre' is not a declared public "
        "function of the module (declared: edge_summary, hub_in_degree, in_degree); "
        "fix: use 'in_degree'",
    )
    with pytest.raises(DeclarationError) as error:
        derived_tables(derived_module, LAKE, schemas={"in_degree": "node BIGINT"})
    assert_message(
        error, "derived_tables(derived_module).schemas['in_degree']: expected a Schema, got str"
    )
    with pytest.raises(DeclarationError) as error:
        derived_tables("derived_module", LAKE)
    assert_message(error, "derived_tables: expected a module, got str 'derived_module'")
    with pytest.raises(DeclarationError) as error:
        derived_tables(derived_module, "lake")
    assert_message(
        error, "derived_tables(derived_module).target: expected a Storage, got str 'lake'"
    )
    empty = load_module(tmp_path, monkeypatch, "no_tables", "import os\nLIMIT = 3\n")
    with pytest.raises(DeclarationError) as error:
        derived_tables(empty, LAKE)
    assert_message(error, "derived_tables(no_tables): the module defines no public function")


def test_derived_tables_refuses_functions_it_cannot_use(tmp_path, monkeypatch) -> None:
    """The first function (in source order) that cannot be captured is named with its
    module; an alias of a function is not a second table."""
    with pytest.raises(DeclarationError) as error:
        derived_tables(capture_cases, LAKE)
    assert_message(
        error,
        "derived_tables(capture_cases).nested_scopes: capture_cases.nested_scopes reads "
        "the global names 'SCALE'",
    )
    module = load_module(
        tmp_path,
        monkeypatch,
        "aliases",
        """
        def copy(edges):
            return edges


        also_copy = copy


        def constant():
            return 1
        """,
    )
    with pytest.raises(DeclarationError) as error:
        derived_tables(module, LAKE)
    assert_message(
        error,
        "derived_tables(aliases).constant: constant() takes no parameter, so it reads no "
        "asset; fix: name the assets it is computed from as its parameters",
    )
    cached = load_module(
        tmp_path,
        monkeypatch,
        "cached_tables",
        """
        import functools


        @functools.cache
        def copy(edges):
            return edges
        """,
    )
    with pytest.raises(DeclarationError) as error:
        derived_tables(cached, LAKE)
    assert_message(error, "derived_tables(cached_tables).copy: cached_tables.copy is decorated")
    del module.constant
    assert [t.name for t in derived_tables(module, LAKE)] == ["copy"]


# --------------------------------------------------------------------------- roles and SQL


@pytest.mark.parametrize(
    ("roles", "parts"),
    [
        (["edges"], ["expected a dict from role to asset name, got list ['edges']"]),
        ("edges", ["expected a dict from role to asset name, got str 'edges'"]),
        ({"1st": "edges"}, ["the role '1st' is not an identifier"]),
        ({"my edges": "edges"}, ["the role 'my edges' is not an identifier"]),
        ({3: "edges"}, ["the role 3 is not an identifier"]),
        ({"edges": "snap.graphs.edges"}, ["['edges']: 'snap.graphs.edges' does not name"]),
        ({"edges": ""}, ["['edges']: '' does not name an asset"]),
        ({"edges": "ca-GrQc"}, ["['edges']: 'ca-GrQc' does not name an asset"]),
        ({"edges": 3}, ["['edges']: 3 does not name an asset"]),
        ({"edges": None}, ["['edges']: None does not name an asset"]),
    ],
)
def test_roles_refuse_bad_input(roles, parts) -> None:
    with pytest.raises(DeclarationError) as error:
        ComputedFromLocalData(source_asset_names=roles, target=LAKE, sql="SELECT 1")
    assert_message(error, "ComputedFromLocalData.source_asset_names", *parts)


def test_roles_accept_assets_of_this_and_other_datasets() -> None:
    roles = {"edges": "ca_grqc", "other": "snap.ca_hepth"}
    setup = ComputedFromLocalData(
        source_asset_names=roles, target=LAKE, sql="SELECT * FROM {edges}, {other}"
    )
    roles["edges"] = "changed"
    assert setup.source_asset_names == {"edges": "ca_grqc", "other": "snap.ca_hepth"}


def test_a_placeholder_naming_no_role_is_refused_at_declaration() -> None:
    with pytest.raises(UnknownReferenceError) as error:
        ComputedFromLocalData(
            source_asset_names={"edges": "ca_grqc"},
            target=LAKE,
            sql="SELECT from_id, count(*) FROM {edge} GROUP BY 1",
        )
    assert str(error.value) == (
        "ComputedFromLocalData.sql: the placeholder {edge}: 'edge' is not a declared role of "
        "source_asset_names (declared: edges); fix: use 'edges', or add 'edge' to "
        "source_asset_names, or write a declared role"
    )
    with pytest.raises(UnknownReferenceError) as error:
        ComputedFromLocalData(
            source_asset_names={"edges": "ca_grqc"}, target=LAKE, sql="SELECT * FROM {nodes}"
        )
    assert_message(error, "the placeholder {nodes}: 'nodes' is not a declared role")


@pytest.mark.parametrize(
    ("sql", "parts"),
    [
        ("SELECT * FROM {1x}", ["ComputedFromLocalData.sql: '{1x}' at position 14 is not a"]),
        ("SELECT '{' FROM {edges}", ["'{' at position 8 is not a placeholder"]),
        ("SELECT * FROM {edges} }", ["'}' at position 22 is not a placeholder"]),
        ("  ", ["ComputedFromLocalData.sql: is empty"]),
    ],
)
def test_malformed_sql_is_refused_at_declaration(sql, parts) -> None:
    with pytest.raises(DeclarationError) as error:
        ComputedFromLocalData(source_asset_names={"edges": "ca_grqc"}, target=LAKE, sql=sql)
    assert_message(error, *parts)


def test_one_computation_per_derived_table() -> None:
    with pytest.raises(DeclarationError) as error:
        ComputedFromLocalData(
            source_asset_names={"edges": "edges"},
            target=LAKE,
            sql="SELECT * FROM {edges}",
            function=capture_cases.keyword_only,
        )
    assert_message(error, "ComputedFromLocalData: both sql= and function= are given")
    with pytest.raises(DeclarationError) as error:
        ComputedFromLocalData(source_asset_names={}, target=LAKE, sql="SELECT 1")
    assert_message(error, "ComputedFromLocalData.source_asset_names: is empty")
    literal = ComputedFromLocalData(
        source_asset_names={"edges": "edges"},
        target=LAKE,
        sql="SELECT '{{literal}}' AS braces FROM {edges}",
    )
    assert literal.sql == "SELECT '{{literal}}' AS braces FROM {edges}"


def test_a_derived_table_is_declared_with_its_setup() -> None:
    table = StaticDataTable(
        name="in_degree",
        schema=UndefinedTabularSchema(),
        setup=computed(derived_module.in_degree),
    )
    assert table.setup.function.name == "in_degree"


# --------------------------------------------------------------------------- float fields


@pytest.mark.parametrize("algorithm", [SVMRegressionAlgorithm, LogisticRegressionAlgorithm])
@pytest.mark.parametrize(
    ("value", "part"),
    [
        (True, "expected a number, got bool True"),
        ("1.0", "expected a number, got str '1.0'"),
        ([1.0], "expected a number, got list [1.0]"),
        (math.nan, "nan is not finite"),
        (math.inf, "inf is not finite"),
        (-math.inf, "-inf is not finite"),
    ],
)
def test_float_fields_refuse_bad_input(algorithm, value, part) -> None:
    with pytest.raises(DeclarationError) as error:
        algorithm(c=value)
    assert_message(error, f"{algorithm.__name__}.c: {part}")


def test_float_fields_accept_numbers() -> None:
    assert SVMRegressionAlgorithm().c == 1.0
    assert SVMRegressionAlgorithm(c=None).c == 1.0
    two = LogisticRegressionAlgorithm(c=2)
    assert two.c == 2.0 and type(two.c) is float
    assert SVMRegressionAlgorithm(c=0.5).to_tree() == {
        "kind": "SVMRegressionAlgorithm",
        "kernel": "rbf",
        "c": 0.5,
    }
