"""How a looped task finds its upstream tasks: a pass shared by the dialects.

Each task of a loop depends on some tasks before it. When a template over the row's
keys names them (`[f"{asset}_downloaded"]`) the table needs nothing more; otherwise
the table gains an `upstream` column right after the task name. Dialects that run or
wire tasks (a script skipping what a failure blocks, an Airflow DAG) use the same
columns.
"""

from __future__ import annotations

from aorist.dialects._base import Node


def named(step: Node) -> bool:
    """Whether the table has a task column (else the name is built from row keys)."""
    return step["task_template"] is None


def upstream_column(step: Node) -> bool:
    return step["upstream_template"] is None and any(step["upstream"])


def params(step: Node) -> list[str]:
    """The table's columns a task takes as arguments (all but the task name)."""
    columns = step["table"]["columns"] if step["table"] else []
    return [c for c in columns if c != "task"] if columns[:1] == ["task"] else columns


def wired_rows(step: Node, constants: dict[str, Node]) -> Node:
    """The step's rows with its upstream column (if it needs one) after the task name."""
    table = step["table"]
    # A shared table's rows live in the constant it shares (`constants`).
    source = table["rows"] if table["shared"] is None else constants[table["shared"]]
    # Decided once per table: each check reads every row.
    with_upstream = upstream_column(step)
    rows = []
    for index, row in enumerate(source["items"]):
        items = row["items"] if row["node"] == "Tuple" else [row]
        extra = []
        if with_upstream:
            names = step["upstream"][index]
            extra.append({"node": "List", "items": [{"node": "Str", "value": u} for u in names]})
        head, rest = (items[:1], items[1:]) if named(step) else ([], items)
        cells = [*head, *extra, *rest]
        rows.append(cells[0] if len(cells) == 1 else {"node": "Tuple", "items": cells})
    return {"node": "List", "items": rows}


def upstream_names(step: Node) -> Node:
    """The upstream task names of the step's task, or of a loop's row (an expression)."""
    if step["task_count"] > 1:
        if step["upstream_template"] is not None:
            return step["upstream_template"]
        if upstream_column(step):
            return {"node": "Name", "id": "upstream"}
        return {"node": "List", "items": []}
    names = step["upstream"][0] if step["upstream"] else []
    return {"node": "List", "items": [{"node": "Str", "value": u} for u in names]}
