"""What the asset-minded dialects (dagster, prefect, hamilton) share.

The plan is a DAG of tasks; these orchestrators see the universe's assets (Dagster,
Hamilton) or the plan's steps (Prefect) instead. Every task that runs code belongs to
one asset (the core says which); a task that only gathers others (`sources_computed`,
`data_set_computed`) runs nothing and is looked through: whoever waits for it waits for
what it gathers.

Each step that runs code becomes a function `_<step>(run, row)`: it reads row `row` of
the step's parameter table and runs its recipe through the runtime's `Run`, which keeps
the freshness semantics of the other dialects (a fresh step is skipped, what a step
made is recorded in the lake's state table). An asset runs its steps' rows in plan
order; Prefect maps each step over its rows.
"""

from __future__ import annotations

import ast
import dataclasses
import textwrap
from typing import ClassVar

from aorist.dialects import _mapping as mapping
from aorist.dialects._base import (
    DATA_BANNER,
    Dialect,
    Node,
    data_definition,
    long_rows,
)
from aorist.dialects.airflow import (
    PYTHON_RESERVED,
    module_names,
    names_in,
    replace_name,
    unpacking,
)
from aorist.dialects.python import PythonPrinter, comment, module_doc, quoted
from aorist.errors import PlanningError

Ref = tuple[int, int]  # (step index, row index)


@dataclasses.dataclass
class Asset:
    """One asset of the universe, as an orchestrator sees it."""

    dataset: str
    name: str
    # The assets it is computed from (or waits for), in plan order.
    deps: list[str]
    # Its tasks that run code, in plan order.
    tasks: list[Ref]
    retries: int
    timeout_minutes: int

    @property
    def qualified(self) -> str:
        return f"{self.dataset}.{self.name}"


class Plan:
    """The module's tasks by asset, and what each task waits for (gathers looked through)."""

    def __init__(self, module: Node) -> None:
        self.steps: list[Node] = module["steps"]
        constants = {d["name"]: d["value"] for d in module["definitions"] if "value" in d}
        self.tasks = [mapping.tasks_of(step, constants) for step in self.steps]
        self.where: dict[str, Ref] = {}
        for s, tasks in enumerate(self.tasks):
            for r, name in enumerate(tasks.names):
                self.where[name] = (s, r)
        self.after: list[list[list[Ref]]] = []
        resolved: dict[Ref, list[Ref]] = {}
        for s, step in enumerate(self.steps):
            rows = []
            for r in range(step["task_count"]):
                refs: list[Ref] = []
                for name in self.tasks[s].upstream[r]:
                    for ref in self.through(self.where[name], resolved):
                        if ref not in refs:
                            refs.append(ref)
                rows.append(refs)
                if not self.runs_code(s):
                    resolved[(s, r)] = refs
            self.after.append(rows)
        self.assets = self.group()

    def runs_code(self, s: int) -> bool:
        return self.steps[s]["language"] is not None

    def through(self, ref: Ref, resolved: dict[Ref, list[Ref]]) -> list[Ref]:
        """`ref`, or what it gathers if it runs nothing (resolved in plan order)."""
        return [ref] if self.runs_code(ref[0]) else resolved[ref]

    def owner(self, ref: Ref) -> str | None:
        """The asset a task works for (None for a dataset's or the universe's)."""
        return self.steps[ref[0]]["assets"][ref[1]]

    def group(self) -> list[Asset]:
        found: dict[str, Asset] = {}
        for s, step in enumerate(self.steps):
            if not self.runs_code(s):
                continue
            for r in range(step["task_count"]):
                owner = self.owner((s, r))
                if owner is None:
                    raise PlanningError(
                        f"step {step['name']}: task {self.tasks[s].names[r]} belongs to no "
                        "asset, so no asset can run it; fix: report this as a bug"
                    )
                if owner not in found:
                    dataset, _, name = owner.partition(".")
                    found[owner] = Asset(dataset, name, [], [], 0, 0)
                asset = found[owner]
                asset.tasks.append((s, r))
                asset.retries = max(asset.retries, step["retries"])
                asset.timeout_minutes += step["timeout_minutes"]
                for ref in self.after[s][r]:
                    other = self.owner(ref)
                    if other is not None and other != owner and other not in asset.deps:
                        asset.deps.append(other)
        self.check_acyclic(found)
        return list(found.values())

    @staticmethod
    def check_acyclic(assets: dict[str, Asset]) -> None:
        """Each asset runs its tasks at once: its tasks must not wait for an asset that
        waits for it."""
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " -> ".join([*path[path.index(name) :], name])
                raise PlanningError(
                    f"assets {cycle}: the tasks of these assets wait for each other, so "
                    "no order of whole assets runs them; fix: report this as a bug"
                )
            state[name] = 1
            for dep in assets[name].deps:
                visit(dep, [*path, name])
            state[name] = 2

        for name in assets:
            visit(name, [])


class AssetDialect(Dialect):
    """A dialect of this family: a Python module, recipes in Python first."""

    host = "python"
    suffix = ".py"
    default_preferences: ClassVar[tuple[str, ...]] = ("python", "sql", "bash", "r")


def step_function_name(step: Node) -> str:
    return f"_{step['name']}"


def table_name(step: Node) -> str:
    table = step["table"]
    return table["shared"] if table["shared"] else table["name"].upper()


def step_call(step: Node) -> tuple[Node | None, Node]:
    """(task name expression, recipe call) of a step that runs code."""
    body = step["body"]
    if body and body[0]["node"] == "For":
        body = body[0]["body"]
    task = next((s["task"] for s in body if s["node"] == "Progress"), None)
    calls = [s["value"] for s in body if s["node"] == "Expr"]
    if len(calls) != 1:
        raise PlanningError(
            f"step {step['name']}: makes {len(calls)} recipe calls, not one; "
            "fix: report this as a bug"
        )
    return task, calls[0]


def step_function(step: Node, printer: PythonPrinter) -> list[str]:
    """`_<step>(run, row)`: runs the recipe of row `row` of the step's table as its task."""
    task, call = step_call(step)
    if task is None:
        task = {"node": "Str", "value": step["tasks"][0]}
    renamed = replace_name(call, "LAKE_PATH", "run.lake_path")
    assert isinstance(renamed, dict)
    call = renamed
    runner = "run.parallel_task" if step.get("parallel") else "run.task"
    invocation = {
        **call,
        "func": runner,
        "args": [task, {"node": "Name", "id": call["func"]}, *call["args"]],
    }
    doc = textwrap.wrap(f"{step['name']}: {step['doc']}", 80)
    lines = [
        f"def {step_function_name(step)}(run: Run, row: int) -> str:",
        '    """' + "\n    ".join(doc) + ("\n    " if len(doc) > 1 else "") + '"""',
    ]
    if step["table"] is not None:
        columns = step["table"]["columns"]
        unpacked = unpacking(columns, names_in(invocation))
        if unpacked:
            lines.append(f"    {unpacked} = {table_name(step)}[row]")
    else:
        lines.append("    assert row == 0, row")
    lines.append(f"    return {printer.expr(invocation)}")
    return lines


# Helpers every asset-minded program has (trusted text, not recipes).
MAKE_ASSET = '''
def make_asset(lake_path: str, steps: list) -> dict[str, int]:
    """Run an asset's steps, each a (function, row) pair, in order, on the lake at
    `lake_path`; count the steps that made something and those already up to date.

    A step fails by raising (after printing FAILED and its error); the lake keeps
    what it had, and the orchestrator decides what runs next. The lake's lock is held
    while the asset runs: a run of another program on the same lake waits for it,
    up to LAKE_WAIT_SECONDS.
    """
    states = {"made": 0, "fresh": 0}
    with Run(lake_path, raising=True, wait=LAKE_WAIT_SECONDS) as run:
        for step, row in steps:
            states[step(run, row)] += 1
    return states
'''

LAKE_WAIT = [
    *comment(
        "How long an asset waits for the lake when another run holds it, in seconds;"
        " then it fails, naming that run."
    ),
    "LAKE_WAIT_SECONDS = 3600",
]


def with_imports(imports: list[str], extra: list[str]) -> list[str]:
    """The module's import lines with `extra` (third-party) sorted into their group."""
    groups: list[list[str]] = [[]]
    for line in imports:
        if line:
            groups[-1].append(line)
        else:
            groups.append([])
    if len(groups) == 1 and extra:
        groups.append([])
    groups[-1] = sorted({*groups[-1], *extra}, key=lambda line: (line.startswith("from"), line))
    out: list[str] = []
    for group in groups:
        if group:
            out += [*([""] if out else []), *group]
    return out


def public_functions(source: str) -> list[str]:
    """The public functions a definition's source binds at module level."""
    return [
        node.name
        for node in ast.parse(source).body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and not node.name.startswith("_")
    ]


class AssetProgram:
    """The part of an asset-minded program every such dialect prints alike: docstring,
    imports, settings, recipe code, step tables and step functions; the dialect adds
    its own part (`body`) and what runs at import (`tail`)."""

    def __init__(self, module: Node) -> None:
        self.module = module
        self.printer = PythonPrinter()
        self.printer.prepare(module)
        self.plan = Plan(module)
        self.data: list[str] = []

    def code_steps(self) -> list[Node]:
        return [s for s in self.module["steps"] if s["language"] is not None]

    def header(self, run: str, extra_imports: list[str]) -> list[str]:
        module = self.module
        doc = module_doc(module, run)
        lines = ['"""' + "\n".join(doc) + '\n"""', ""]
        lines += with_imports(module["imports"], extra_imports)
        lines += ["", ""]
        for setting in module["settings"]:
            lines += self.printer.setting(setting)
        lines += LAKE_WAIT
        return lines

    def code(self, when: str) -> list[str]:
        """The schedule (said `when`, if the program has one), the recipe code, the step
        tables and the step functions."""
        schedule = self.module.get("schedule")
        lines = [*comment(when), f"SCHEDULE = {quoted(schedule)}"] if schedule else []
        return [*lines, *self.definitions(), *self.step_tables(), *self.step_functions()]

    def definitions(self) -> list[str]:
        """Recipe code and shared tables (long ones to the data section)."""
        steps = self.module["steps"]
        used_shared = {
            s["table"]["shared"] for s in self.code_steps() if s["table"] and s["table"]["shared"]
        }
        shared = {s["table"]["shared"] for s in steps if s["table"]}
        lines: list[str] = []
        for definition in self.module["definitions"]:
            if definition["name"] in shared - used_shared:
                continue
            if data_definition(definition):
                self.data += ["", "", *self.printer.definition(definition)]
                continue
            lines += ["", "", *self.printer.definition(definition)]
        return lines

    def helper_functions(self) -> list[str]:
        """Public functions of the recipe code (recipes, helpers, user functions)."""
        names: list[str] = []
        for definition in self.module["definitions"]:
            if definition["node"] == "Function":
                names += [n for n in public_functions(definition["source"]) if n not in names]
        return names

    def step_tables(self) -> list[str]:
        lines: list[str] = []
        for step in self.code_steps():
            table = step["table"]
            if table is None or table["shared"]:
                continue
            rows = table["rows"]
            text = [
                *comment(f"{step['name']}: one row per task ({', '.join(table['columns'])})."),
                self.printer.table(table_name(step), rows),
            ]
            if long_rows(rows):
                self.data += ["", "", *text]
            else:
                lines += ["", "", *text]
        return lines

    def step_functions(self) -> list[str]:
        lines: list[str] = []
        for step in self.code_steps():
            lines += ["", "", *step_function(step, self.printer)]
        return lines

    def data_section(self) -> list[str]:
        return ["", "", *comment(DATA_BANNER), *self.data[2:]] if self.data else []

    def taken(self, *parts: list[str]) -> set[str]:
        """Names the program binds at module level (recipes, tables, helpers)."""
        # Placeholders of tables (`NAME = __aorist_table_0__`) parse like any assignment.
        return module_names("\n".join(line for part in parts for line in part))

    def steps_literal(self, refs: list[Ref]) -> Node:
        """[(function, row), ...] as an AST list (the printer lays it out)."""
        return {
            "node": "List",
            "items": [
                {
                    "node": "Tuple",
                    "items": [
                        {"node": "Name", "id": step_function_name(self.plan.steps[s])},
                        {"node": "Int", "value": r},
                    ],
                }
                for s, r in refs
            ],
        }


def unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while (
        candidate in taken
        or candidate in PYTHON_RESERVED
        or (candidate.startswith("__") and candidate.endswith("__"))
    ):
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate


def strs(values: list[str]) -> Node:
    return {"node": "List", "items": [{"node": "Str", "value": v} for v in values]}


__all__ = [
    "MAKE_ASSET",
    "Asset",
    "AssetDialect",
    "AssetProgram",
    "Plan",
    "strs",
    "unique",
]
