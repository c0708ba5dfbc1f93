"""What every dialect provides."""

from __future__ import annotations

from typing import Any, ClassVar

from aorist.errors import PlanningError

Node = dict[str, Any]

# A parameter table longer than this (rows, plus the items of lists inside rows, such as
# a gathering task's upstream ids) moves to the program's data section, after the code
# that uses it: the code reads first, and its length does not depend on the universe's
# size. Tables stay in the program (no sidecar file): a program is one self-contained
# file.
DATA_ROWS = 100
DATA_BANNER = "Data: the parameter tables of the steps above, one row per task."


def table_length(rows: Node) -> int:
    """Rows, plus the items of the lists inside them: roughly its lines once formatted."""
    length = 0
    for row in rows["items"]:
        length += 1
        cells = row["items"] if row["node"] == "Tuple" else [row]
        length += sum(len(cell["items"]) for cell in cells if cell["node"] == "List")
    return length


def long_rows(rows: Node | None) -> bool:
    return rows is not None and rows["node"] == "List" and table_length(rows) > DATA_ROWS


def data_definition(definition: Node) -> bool:
    """A table of the plan (shared by several steps) long enough for the data section."""
    return (
        definition["node"] == "Constant"
        and not definition["origin"]
        and long_rows(definition["value"])
    )


def data_table(step: Node) -> bool:
    """A step's own parameter table, long enough for the data section."""
    table = step["table"]
    return bool(table) and table["shared"] is None and long_rows(table["rows"])


def data_table_doc(step: Node) -> str:
    """What a step's own table is, said above it in the data section."""
    return f"Rows ({', '.join(step['table']['columns'])}) of the step {step['name']}."


class Dialect:
    """A renderer of the cross-language AST into one target's program text."""

    name: ClassVar[str]
    host: ClassVar[str]
    suffix: ClassVar[str]
    default_preferences: ClassVar[tuple[str, ...]]

    def render(self, module: Node) -> str:
        raise NotImplementedError

    def unsupported(self, node: Node, why: str = "") -> PlanningError:
        """The one path for AST nodes this target cannot express."""
        detail = f": {why}" if why else ""
        return PlanningError(
            f"dialect {self.name!r}: cannot express a {node.get('node', node)!r} node{detail}; "
            "fix: choose a dialect that supports it, or report this as a bug"
        )


# Import names of libraries whose pip distribution is named otherwise.
PIP_NAMES = {"sklearn": "scikit-learn", "psycopg": "psycopg[binary]"}


def pip_names(libraries: list[str]) -> list[str]:
    """The distributions to pip install for `libraries` (import names), sorted."""
    return sorted({PIP_NAMES.get(name, name) for name in libraries})
