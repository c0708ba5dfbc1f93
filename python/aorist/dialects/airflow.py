"""The `airflow` dialect: an Airflow 3 DAG file in TaskFlow style (`airflow.sdk`).

One task per constraint instance, ids from the plan's task names, dependencies from
the constraint DAG. Repeated steps are one `@task` function instantiated in a loop over
a module-level parameter table (with an `upstream` column for wiring). Recipe imports
move inside the recipe functions, so parsing the file imports nothing but Airflow and
the standard library. Published tables are `Asset` outlets that downstream DAGs can
schedule on.

Airflow renders a task's arguments as Jinja templates (and reads an argument ending in
a template extension as a template file), so no task takes declared text as an
argument: a single task has its values as literals in its body, and a looped task
receives only its row's index in the parameter table and reads the row itself. Declared
text (URLs, paths, digests, names) reaches the task as data, never as a template.
`airflow.sdk.literal()`
would also stop the rendering, but every value would need the wrapper, and a
serialized DAG (what the scheduler and the UI see) stores its repr, not the value; an
index is an int, which Airflow neither renders nor needs to serialize specially, and
the row it names is in the same file the task runs from.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import textwrap
from collections.abc import Sequence
from typing import ClassVar

from aorist.dialects import _wiring as wiring
from aorist.dialects._base import DATA_BANNER, Dialect, Node, data_definition, long_rows
from aorist.dialects.python import PythonPrinter, black_format, comment, module_doc

START_DATE = "datetime(2024, 1, 1, tzinfo=timezone.utc)"
PYTHON_RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins))


def module_names(source: str) -> set[str]:
    """The names `source` binds at module level (imports, functions, assignments)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def dag_function(name: str, taken: set[str]) -> str:
    """The name of the function defining the DAG: the DAG's name, unless that is a Python
    keyword, a builtin, a dunder or a name the file already binds (`download`, `task`,
    `LAKE_PATH`, ...); then `<name>_dag`. The dag_id stays the declared name."""
    function = name
    while (
        function in PYTHON_RESERVED
        or function in taken
        or (function.startswith("__") and function.endswith("__"))
    ):
        function = f"{name}_dag" if function == name else function + "_"
    return function


def bound_name(statement: str) -> str:
    """The name an import statement binds (`import a.b` binds `a`)."""
    node = ast.parse(statement).body[0]
    assert isinstance(node, (ast.Import, ast.ImportFrom)), statement
    alias = node.names[0]
    if alias.asname:
        return alias.asname
    return alias.name.split(".")[0] if isinstance(node, ast.Import) else alias.name


def loaded(nodes: Sequence[ast.AST]) -> set[str]:
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}


Function = ast.FunctionDef | ast.AsyncFunctionDef


def insert_imports(lines: list[str], function: Function, imports: list[str]) -> list[str]:
    """`lines` with `imports` placed at the top of `function`'s body, after its docstring."""
    if not imports:
        return lines
    first = function.body[0]
    is_docstring = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    anchor = first if not is_docstring or len(function.body) == 1 else function.body[1]
    indent = lines[anchor.lineno - 1][: anchor.col_offset]
    at = first.end_lineno if is_docstring else first.lineno - 1
    assert at is not None
    block = [indent + line for line in imports if line] + [""]
    return lines[:at] + block + lines[at:]


def imports_inside(source: str, imports: list[str]) -> tuple[str, list[str]]:
    """Move `imports` into the functions `source` defines, so that parsing the DAG file
    imports nothing but Airflow; returns the source and the imports its module level
    itself needs (a decorator such as `@contextlib.contextmanager`).

    A recipe defines one function: it takes every import. A helper of several functions
    or classes: each function (or method) takes the imports it uses.
    """
    imports = [line for line in imports if line]
    if not imports:
        return source, []
    tree = ast.parse(source)
    lines = source.splitlines()
    if len(tree.body) == 1 and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "\n".join(insert_imports(lines, tree.body[0], imports)) + "\n", []
    names = {line: bound_name(line) for line in imports}
    functions: list[Function] = []
    module_level: list[ast.AST] = []  # what runs when the module is imported
    for node in tree.body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        if isinstance(node, ast.ClassDef):
            module_level += [*node.decorator_list, *node.bases, *node.keywords]
        for member in members:
            if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append(member)
                defaults = [*member.args.defaults, *member.args.kw_defaults]
                module_level += [*member.decorator_list, *(d for d in defaults if d)]
            else:
                module_level.append(member)
    at_module = loaded(module_level)
    top = [i for i in imports if names[i] in at_module]
    # Bottom up, so that the line numbers of the functions above stay right.
    for function in sorted(functions, key=lambda f: f.lineno, reverse=True):
        used = loaded(function.body)
        inside = [i for i in imports if names[i] in used and i not in top]
        lines = insert_imports(lines, function, inside)
    return "\n".join(lines) + "\n", top


def names_in(node: object) -> set[str]:
    """The variables an AST node reads (names, and the fields of format strings)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack += item
        elif isinstance(item, dict):
            if item.get("node") == "Name":
                found.add(item["id"])
            elif item.get("part") == "Field":
                found.add(item["name"])
            stack += [v for v in item.values() if isinstance(v, (dict, list))]
    return found


def unpacking(columns: list[str], used: set[str]) -> str | None:
    """Targets unpacking a row of `columns`, `_` for those not `used`; None if none is."""
    if not used & set(columns):
        return None
    return ", ".join(column if column in used else "_" for column in columns)


class AirflowDialect(Dialect):
    name = "airflow"
    host = "python"
    suffix = ".py"
    default_preferences: ClassVar[tuple[str, ...]] = ("python", "sql", "bash", "r")

    def render(self, module: Node) -> str:
        printer = PythonPrinter()
        name = module["name"]
        doc = module_doc(
            module,
            "An Airflow 3 DAG: put this file in your deployment's DAGs folder. The workers"
            " need the Python packages above; tasks import them when they run.",
        )
        uses_empty = any(step["language"] is None for step in module["steps"])
        uses_assets = any(
            any(step["outlets"]) or step["outlet_template"] for step in module["steps"]
        )
        sdk = ["dag", "task", *(["Asset"] if uses_assets else [])]
        lines = ['"""' + "\n".join(doc) + '\n"""', "", "from __future__ import annotations", ""]
        # Standard-library imports that helpers need at module level join this block.
        stdlib_at = len(lines)
        top_imports: list[str] = []
        lines += ["from datetime import datetime, timezone", ""]
        if uses_empty:
            lines.append("from airflow.providers.standard.operators.empty import EmptyOperator")
        lines += [f"from airflow.sdk import {', '.join(sorted(sdk, key=str.lower))}", "", ""]
        for setting in module["settings"]:
            lines += printer.setting(setting)
        # Steps whose tables gain columns here (upstream ids, outlets) keep their own.
        unused = {s["table"]["shared"] for s in module["steps"] if s["table"]} - {
            s["table"]["shared"] for s in module["steps"] if self.uses_shared(s)
        }
        # Long tables go to a data section after the DAG function (see DATA_ROWS).
        data: list[str] = []
        for definition in module["definitions"]:
            # Airflow runs, retries and isolates tasks itself: no program runner.
            if definition["name"] in unused or definition.get("program"):
                continue
            if data_definition(definition):
                data += ["", "", *printer.definition(definition)]
                continue
            if definition["node"] == "Function":
                source, needed = imports_inside(definition["source"], definition["imports"])
                definition = {**definition, "source": source}
                top_imports += [i for i in needed if i not in top_imports]
            lines += ["", "", *printer.definition(definition)]
        lines[stdlib_at:stdlib_at] = sorted(top_imports)
        constants = {d["name"]: d["value"] for d in module["definitions"] if "value" in d}
        for step in module["steps"]:
            if step["task_count"] > 1 and not self.uses_shared(step):
                table, rows = self.table(step, printer, constants)
                if long_rows(rows):
                    data += ["", "", *table]
                else:
                    lines += ["", "", *table]
        function = dag_function(name, module_names("\n".join([*lines, *data])))
        lines += [
            "",
            "",
            "@dag(",
            f"    dag_id={name!r},",
            "    schedule=None,",
            f"    start_date={START_DATE},",
            "    catchup=False,",
            # Runs of one DAG share its lake: one at a time, like a script's lake lock.
            "    max_active_runs=1,",
            f"    tags=['aorist', {name!r}],",
            "    doc_md=__doc__,",
            ")",
            f"def {function}() -> None:",
            "    tasks = {}",
        ]
        for step in module["steps"]:
            lines += ["", *self.step(step, printer)]
        if data:
            lines += ["", "", *comment(DATA_BANNER), *data[2:]]
        lines += ["", "", f"{function}()", ""]
        return black_format("\n".join(lines), printer.tables)

    def uses_shared(self, step: Node) -> bool:
        """Whether the step loops over a table it shares with others, as it stands."""
        table = step["table"]
        return bool(table and table["shared"] and not self.extra_columns(step))

    def table_name(self, step: Node) -> str:
        if self.uses_shared(step):
            return step["table"]["shared"]
        return step["table"]["name"].upper()

    # Which columns a table has: decided once for every dialect (see _wiring).
    named = staticmethod(wiring.named)
    params = staticmethod(wiring.params)
    upstream_column = staticmethod(wiring.upstream_column)
    outlet_column = staticmethod(wiring.outlet_column)

    def table(
        self, step: Node, printer: PythonPrinter, constants: dict[str, Node]
    ) -> tuple[list[str], Node]:
        """The step's parameter table (its lines and its rows), with each task's upstream
        ids (and its outlet) where no template over the row's keys gives them."""
        table = wiring.wired_rows(step, constants, upstream=True, outlets=True)
        columns = self.columns(step)
        return [
            *comment(f"{step['name']}: one row per task ({', '.join(columns)})."),
            printer.table(self.table_name(step), table),
        ], table

    def columns(self, step: Node) -> list[str]:
        head = ["task_id"] if self.named(step) else []
        return [*head, *self.extra_columns(step), *self.params(step)]

    def extra_columns(self, step: Node) -> list[str]:
        return [
            *(["upstream"] if self.upstream_column(step) else []),
            *(["outlet"] if self.outlet_column(step) else []),
        ]

    @staticmethod
    def upstream_of(step: Node, printer: PythonPrinter) -> str | None:
        """How a looped task finds its upstream tasks: a column, a template, or none."""
        if step["upstream_template"] is not None:
            items = step["upstream_template"]["items"]
            refs = [f"tasks[{printer.expr(item)}]" for item in items]
            if not refs:
                return None
            return refs[0] if len(refs) == 1 else f"[{', '.join(refs)}]"
        if any(step["upstream"]):
            return "[tasks[name] for name in upstream]"
        return None

    def step(self, step: Node, printer: PythonPrinter) -> list[str]:
        looped = step["task_count"] > 1
        columns = self.columns(step) if looped else []
        # A looped task's only argument: its row's index in the table (see the module doc).
        index = "row"
        while index in columns:
            index += "_"
        task_id = repr(step["tasks"][0]) if not looped else "task_id"
        loop_id = "task_id" if self.named(step) else printer.expr(step["task_template"] or {})
        if step["language"] is None:
            lines = comment(f"{step['name']}: {step['doc']}", "    ")
            create = "EmptyOperator(task_id={task_id})"
        else:
            call = self.call(step)
            doc = "\n        ".join(textwrap.wrap(step["doc"], 76))
            closing = "\n        " if "\n" in doc else ""
            options = f"retries={step['retries']}"
            if not looped:
                # One task: the decorator names it; loops name each instance by override.
                outlet = step["outlets"][0] if step["outlets"] else ""
                outlets = f", outlets=[Asset(name={outlet!r})]" if outlet else ""
                options = f"task_id={task_id}, {options}{outlets}"
            lines = [
                f"    @task({options})",
                f"    def {step['name']}({f'{index}: int' if looped else ''}) -> None:",
                f'        """{doc}{closing}"""',
            ]
            row = unpacking(columns, names_in(call)) if looped else None
            if row:
                lines.append(f"        {row} = {self.table_name(step)}[{index}]")
            lines += [f"        {printer.expr(call)}", ""]
            if looped:
                outlet = (
                    printer.expr(step["outlet_template"])
                    if step["outlet_template"] is not None
                    else "outlet"
                )
                has_outlet = step["outlet_template"] is not None or any(step["outlets"])
                outlets = f", outlets=[Asset(name={outlet})]" if has_outlet else ""
                create = f"{step['name']}.override(task_id={{task_id}}{outlets})({index}={index})"
            else:
                create = f"{step['name']}()"
        if looped:
            wiring = {*self.extra_columns(step), *(["task_id"] if self.named(step) else [])}
            for template in ("task_template", "upstream_template", "outlet_template"):
                wiring |= names_in(step[template])
            targets = unpacking(columns, wiring) or "_"
            table = self.table_name(step)
            if step["language"] is None:
                lines.append(f"    for {targets} in {table}:")
            else:
                targets = f"({targets})" if len(columns) > 1 else targets
                lines.append(f"    for {index}, {targets} in enumerate({table}):")
            if not self.named(step):
                lines.append(f"        task_id = {loop_id}")
            lines.append(f"        tasks[task_id] = {create.replace('{task_id}', 'task_id')}")
            upstream = self.upstream_of(step, printer)
            if upstream:
                lines.append(f"        {upstream} >> tasks[task_id]")
        else:
            lines.append(f"    tasks[{task_id}] = {create.replace('{task_id}', task_id)}")
            refs = [f"tasks[{u!r}]" for u in step["upstream"][0]]
            if len(refs) == 1:
                lines.append(f"    {refs[0]} >> tasks[{task_id}]")
            elif refs:
                lines.append(f"    [{', '.join(refs)}] >> tasks[{task_id}]")
        return lines

    def call(self, step: Node) -> Node:
        """The recipe call a step makes (inside its loop, if it loops)."""
        body = step["body"]
        if body and body[0]["node"] == "For":
            body = body[0]["body"]
        calls = [s["value"] for s in body if s["node"] == "Expr"]
        if len(calls) != 1:
            raise self.unsupported(step, "a step must make exactly one recipe call")
        return calls[0]
