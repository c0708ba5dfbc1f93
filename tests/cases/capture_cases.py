"""Functions `capture` accepts or refuses; each one's name says what it shows."""

import functools
import os.path
import xml.etree.ElementTree as ET
from collections import Counter
from collections import OrderedDict as Ordered
from json import dumps as to_json
from json import dumps as unused_alias  # noqa: F401 - imported, used by no function

import pyarrow as pa
import pyarrow.compute
import pyarrow.compute as pc

SCALE = 2


def helper(table: pa.Table) -> pa.Table:
    return table


def uses_imports(edges: pa.Table) -> pa.Table:
    """Reads aliases, submodules, from-imports, builtins and its own name."""
    counts = Counter(edges.column("from_id").to_pylist())
    ordered = Ordered(sorted(counts.items()))
    total = pc.sum(edges["from_id"]).as_py() + pyarrow.compute.count(edges["to_id"]).as_py()
    note = ET.Element(os.path.basename(to_json(total)))
    if len(ordered) < 0:
        return uses_imports(edges)
    return pa.table({"node": list(ordered), "tag": [note.tag] * len(ordered)})


def keyword_only(*, edges: pa.Table) -> pa.Table:
    return edges


def nested_scopes(edges: pa.Table) -> pa.Table:
    """Comprehensions, inner functions and classes read globals too."""

    def inner() -> list[int]:
        return [len(str(v)) for v in edges.column("from_id").to_pylist() if v > SCALE]

    class Local:
        factor = helper

    return pa.table({"n": inner(), "f": [Local.factor.__name__] * len(inner())})


def uses_helper(edges: pa.Table) -> pa.Table:
    return helper(edges)


def uses_constant(edges: pa.Table) -> pa.Table:
    return edges.slice(0, SCALE)


def uses_helper_and_constant(edges: pa.Table) -> pa.Table:
    return helper(edges).slice(0, SCALE)


def string_annotation(edges: Counter) -> "pandas.DataFrame":  # noqa: F821
    """A string annotation is never evaluated: it needs no import."""
    return edges


def uses_undefined(edges: pa.Table) -> pa.Table:
    return undefined_name(edges)  # noqa: F821


def reads_builtins(edges: pa.Table) -> pa.Table:
    return pa.table({"n": [len(edges)], "s": [str(sorted(range(3)))]})


@functools.cache
def cached(edges: pa.Table) -> pa.Table:
    return edges


def register(function):
    return function


@register
def registered(edges: pa.Table) -> pa.Table:
    return edges


def wrapping(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)

    return wrapper


@wrapping
def wrapped(edges: pa.Table) -> pa.Table:
    return edges


def plain_decorator(function):
    def wrapper(edges):
        return function(edges)

    return wrapper


@plain_decorator
def decorated_without_wraps(edges: pa.Table) -> pa.Table:
    return edges


def generator(edges: pa.Table):
    yield edges


async def coroutine(edges: pa.Table) -> pa.Table:
    return edges


async def async_generator(edges: pa.Table):
    yield edges


def star_args(*tables: pa.Table) -> pa.Table:
    return tables[0]


def star_kwargs(edges: pa.Table, **tables: pa.Table) -> pa.Table:
    return edges


def positional_only(edges: pa.Table, /) -> pa.Table:
    return edges


def with_default(edges: pa.Table, nodes: pa.Table = None) -> pa.Table:
    return edges


def keyword_with_default(*, edges: pa.Table = None) -> pa.Table:
    return edges


def declares_global(edges: pa.Table) -> pa.Table:
    global SCALE
    SCALE = 3
    return edges


def make_closure(n: int):
    def closure(edges: pa.Table) -> pa.Table:
        return edges.slice(0, n)

    return closure


def make_nested():
    def nested(edges: pa.Table) -> pa.Table:
        return edges

    return nested


closure = make_closure(1)
nested = make_nested()


class Holder:
    def method(self, edges: pa.Table) -> pa.Table:
        return edges

    @staticmethod
    def static(edges: pa.Table) -> pa.Table:
        return edges


class CallableTable:
    def __call__(self, edges: pa.Table) -> pa.Table:
        return edges


callable_object = CallableTable()
partial = functools.partial(helper)


if True:  # a top-level function indented by a block: its source is dedented

    def indented(edges: pa.Table) -> pa.Table:
        return edges
