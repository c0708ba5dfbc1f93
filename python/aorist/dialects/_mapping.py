"""How an orchestrator with mapped tasks lays out the plan: lanes, blocks and groups.

A step that runs once per asset (a looped step) becomes one *mapped* task, and the steps
that follow each other asset by asset (a download, then the decompression of that same
download, ...) form a *block*: one mapped task group whose map index is the asset. Inside a
block, the task of map index i waits only for the tasks of map index i (the orchestrator
chains a mapped group index by index). Between blocks and single tasks, a dependency is
all-to-all: every map index of the upstream task before any of the downstream one.

So the layout must keep the constraint DAG exact at the level of task and map index:

1. *Components.* A looped step T is aligned with a looped step S before it when they have
   as many rows and row i of T needs row i of S and no other row of S. Aligned steps form
   a component; row i of every step in it is lane i.
2. *Blocks.* Lanes of a component are split so that every dependency leaving or entering
   a block is all-to-all: lanes stay together only when they have the same dataset and
   the same edges (for an edge to another mapped step, the same set of lanes there). Two
   blocks (or a block and a single task) then have all of their lanes connected or none.
3. *Groups.* Each block and single task belongs to the task group of its dataset (known
   from the rows' `dataset` column, else from the tasks it feeds or reads).

The result is checked: every dependency of the constraint DAG is either inside a block,
lane to lane, or between two nodes all of whose lanes are connected.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

from aorist.dialects._base import Node


def evaluate(node: Node, row: dict[str, Node]) -> Any:
    """The value of a template or cell `node`, with `row`'s columns for names and fields."""
    kind = node["node"]
    if kind == "Str":
        return node["value"]
    if kind in ("Int", "Float", "Bool"):
        return node["value"]
    if kind == "None":
        return None
    if kind == "List" or kind == "Tuple":
        return [evaluate(item, row) for item in node["items"]]
    if kind == "Name":
        return evaluate(row[node["id"]], row)
    if kind == "Format":
        parts = []
        for part in node["parts"]:
            if part["part"] == "Text":
                parts.append(part["value"])
            else:
                parts.append(str(evaluate(row[part["name"]], row)))
        return "".join(parts)
    raise ValueError(f"cannot evaluate a {kind} node")


def rows_of(step: Node, constants: dict[str, Node]) -> list[dict[str, Node]]:
    """The step's rows as {column: cell node}; [] for a step without a table."""
    table = step["table"]
    if not table:
        return []
    source = table["rows"] if table["shared"] is None else constants[table["shared"]]
    columns = table["columns"]
    rows = []
    for row in source["items"]:
        cells = row["items"] if row["node"] == "Tuple" and len(columns) > 1 else [row]
        rows.append(dict(zip(columns, cells, strict=True)))
    return rows


@dataclasses.dataclass
class Tasks:
    """A step's tasks, concretely: names, upstream names, datasets (None if unknown)."""

    names: list[str]
    upstream: list[list[str]]
    datasets: list[str | None]


def tasks_of(step: Node, constants: dict[str, Node]) -> Tasks:
    rows = rows_of(step, constants)
    count = step["task_count"]
    if step["tasks"]:
        names = list(step["tasks"])
    else:
        names = [evaluate(step["task_template"], row) for row in rows]
    if step["upstream_template"] is not None:
        upstream = [evaluate(step["upstream_template"], row) for row in rows]
    elif step["upstream"]:
        upstream = [list(u) for u in step["upstream"]]
    else:
        upstream = [[] for _ in range(count)]
    datasets: list[str | None] = [None] * count
    if rows and "dataset" in rows[0]:
        datasets = [evaluate(row["dataset"], row) for row in rows]
    elif step["outlet_template"] is not None:
        # The table a step announces is `<dataset>.<asset>`.
        datasets = [evaluate(step["outlet_template"], row).split(".")[0] for row in rows]
    elif any(step["outlets"]):
        datasets = [outlet.split(".")[0] if outlet else None for outlet in step["outlets"]]
    assert len(names) == len(upstream) == count, step["name"]
    return Tasks(names, upstream, datasets)


def mappable(step: Node) -> bool:
    """A step of several tasks that run code: one mapped task."""
    return step["task_count"] > 1 and step["language"] is not None


@dataclasses.dataclass
class Block:
    """A mapped task group: `steps` (indices, in plan order) over `lanes` (row indices)."""

    component: int
    steps: list[int]
    lanes: list[int]
    dataset: str | None
    # (upstream step, downstream step) pairs chained lane by lane inside the block.
    chained: list[tuple[int, int]] = dataclasses.field(default_factory=list)


# A node of the orchestrator's graph: ("block", block index, step) or ("task", step, row).
Ref = tuple[str, int, int]


@dataclasses.dataclass
class Layout:
    tasks: list[Tasks]
    blocks: list[Block]
    # Single tasks: (step, row) of every task not in a block.
    singles: list[tuple[int, int]]
    # The group (dataset) of every block and single task; None for the DAG's top level.
    group: dict[Ref, str | None]
    # All-to-all dependencies between nodes, upstream first, without repeats.
    edges: list[tuple[Ref, Ref]]


def layout(steps: list[Node], constants: dict[str, Node]) -> Layout:
    tasks = [tasks_of(step, constants) for step in steps]
    where: dict[str, tuple[int, int]] = {}
    for s, t in enumerate(tasks):
        for r, name in enumerate(t.names):
            where[name] = (s, r)
    # Every dependency of the constraint DAG, as ((step, row), (step, row)).
    edges = [
        (where[u], (s, r))
        for s, t in enumerate(tasks)
        for r, ups in enumerate(t.upstream)
        for u in ups
    ]
    # 1. Components of aligned looped steps (union-find).
    parent = list(range(len(steps)))

    def find(s: int) -> int:
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    for s, step in enumerate(steps):
        if not mappable(step):
            continue
        count = step["task_count"]
        by_step: dict[int, list[set[int]]] = {}
        for r, ups in enumerate(tasks[s].upstream):
            for u in ups:
                us, ur = where[u]
                if us not in by_step:
                    by_step[us] = [set() for _ in range(count)]
                by_step[us][r].add(ur)
        for us, per_row in by_step.items():
            if (
                mappable(steps[us])
                and steps[us]["task_count"] == step["task_count"]
                and all(rows == {r} for r, rows in enumerate(per_row))
            ):
                parent[find(s)] = find(us)
    component = {s: find(s) for s, step in enumerate(steps) if mappable(step)}
    members: dict[int, list[int]] = defaultdict(list)
    for s in sorted(component):
        members[component[s]].append(s)

    # 2. Blocks: lanes with the same dataset and the same edges.
    def signature(c: int, lane: int) -> tuple:
        found: dict[tuple, set[int]] = defaultdict(set)
        for s in members[c]:
            for a, b in adjacency[(s, lane)]:
                # (direction, own step, other step) -> the other's rows.
                (other_s, other_r), direction = (a, "in") if b == (s, lane) else (b, "out")
                if component.get(other_s) == c and other_r == lane:
                    found[("chained", direction, s, other_s)].add(-1)
                else:
                    found[(direction, s, other_s)].add(other_r)
        datasets = sorted(d for s in members[c] if (d := tasks[s].datasets[lane]) is not None)
        dataset = datasets[0] if datasets else None
        return (dataset, tuple(sorted((k, tuple(sorted(v))) for k, v in found.items())))

    adjacency: dict[tuple[int, int], list] = defaultdict(list)
    for a, b in edges:
        adjacency[a].append((a, b))
        adjacency[b].append((a, b))
    blocks: list[Block] = []
    block_of: dict[tuple[int, int], int] = {}  # (step, row) -> block
    for c, steps_in in members.items():
        lanes_by_signature: dict[tuple, list[int]] = defaultdict(list)
        for lane in range(steps[c]["task_count"]):
            lanes_by_signature[signature(c, lane)].append(lane)
        groups = list(lanes_by_signature.items())
        # A dependency between two lanes of one block cannot be expressed: such a
        # component runs lane by lane, one block per lane.
        crossing = any(
            component.get(a[0]) == c and component.get(b[0]) == c and a[1] != b[1] for a, b in edges
        )
        if crossing:
            groups = [(sig, [lane]) for sig, lanes in groups for lane in lanes]
        for (dataset, _), lanes in sorted(groups, key=lambda item: item[1][0]):
            index = len(blocks)
            blocks.append(Block(c, list(steps_in), lanes, dataset))
            for s in steps_in:
                for lane in lanes:
                    block_of[(s, lane)] = index

    def ref(task: tuple[int, int]) -> Ref:
        if task in block_of:
            return ("block", block_of[task], task[0])
        return ("task", task[0], task[1])

    singles = [
        (s, r) for s, t in enumerate(tasks) for r in range(len(t.names)) if (s, r) not in block_of
    ]
    # 3. Edges between nodes, and the chains inside blocks.
    between: dict[tuple[Ref, Ref], None] = {}
    for a, b in edges:
        ra, rb = ref(a), ref(b)
        if ra[0] == rb[0] == "block" and ra[1] == rb[1] and a[1] == b[1]:
            pair = (a[0], b[0])
            if pair not in blocks[ra[1]].chained:
                blocks[ra[1]].chained.append(pair)
        else:
            between[(ra, rb)] = None
    check(blocks, edges, ref)
    group = groups_of(steps, tasks, blocks, singles, list(between), ref)
    return Layout(tasks, blocks, singles, group, list(between))


def check(blocks: list[Block], edges: list, ref) -> None:
    """Every dependency between nodes connects all their lanes, and no other (see doc)."""
    pairs: dict[tuple, set] = defaultdict(set)
    for a, b in edges:
        pairs[(ref(a), ref(b))].add((a[1], b[1]))
    for (ra, rb), found in pairs.items():
        lanes_a = len(blocks[ra[1]].lanes) if ra[0] == "block" else 1
        lanes_b = len(blocks[rb[1]].lanes) if rb[0] == "block" else 1
        if ra[0] == rb[0] == "block" and ra[1] == rb[1]:
            # Inside a block: lane to lane, for every lane.
            implied = lanes_a if all(x == y for x, y in found) else lanes_a * lanes_b
        else:
            implied = lanes_a * lanes_b
        assert len(found) == implied, f"the layout adds dependencies the plan lacks: {ra} -> {rb}"


def groups_of(
    steps: list[Node],
    tasks: list[Tasks],
    blocks: list[Block],
    singles: list[tuple[int, int]],
    between: list[tuple[Ref, Ref]],
    ref,
) -> dict[Ref, str | None]:
    """The dataset group of each node: its rows', else that of every node it feeds
    (or, for nodes that feeds settle nothing for, reads) when they agree; None (the
    DAG's top level) otherwise."""
    group: dict[Ref, str | None] = {}
    for index, block in enumerate(blocks):
        for s in block.steps:
            group[("block", index, s)] = block.dataset
    pending = []
    for s, r in singles:
        node: Ref = ("task", s, r)
        group[node] = tasks[s].datasets[r]
        if group[node] is None:
            pending.append(node)
    downstream: dict[Ref, set[Ref]] = defaultdict(set)
    upstream: dict[Ref, set[Ref]] = defaultdict(set)
    for a, b in between:
        downstream[a].add(b)
        upstream[b].add(a)
    # What a step feeds decides first: a derived table's steps read another dataset's
    # table and belong with the table they make.
    for edges in (downstream, upstream):
        changed = True
        while changed:
            changed = False
            for node in pending:
                if group[node] is not None:
                    continue
                known = {group[n] for n in edges[node]}
                if len(known) == 1 and None not in known:
                    group[node] = known.pop()
                    changed = True
    return group
