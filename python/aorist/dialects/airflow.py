"""The `airflow` dialect: an Airflow 3 DAG file in TaskFlow style (`airflow.sdk`).

One task per constraint instance, ids from the plan's task names, dependencies from
the constraint DAG. Repeated steps are one `@task` function instantiated in a loop over
a module-level parameter table (with an `upstream` column for wiring). Recipe imports
move inside the recipe functions, so parsing the file imports nothing but Airflow.
Published tables are `Asset` outlets that downstream DAGs can schedule on.
"""

from __future__ import annotations

import ast
import textwrap
from typing import ClassVar

from aorist.dialects._base import DATA_BANNER, Dialect, Node, data_definition, long_rows
from aorist.dialects.python import PythonPrinter, black_format, comment, module_doc

START_DATE = "datetime(2024, 1, 1, tzinfo=timezone.utc)"


def imports_inside(source: str, imports: list[str]) -> str:
    """Move `imports` into the function `source` defines, after its docstring."""
    if not imports:
        return source
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef), "a recipe defines exactly one function"
    first = function.body[0]
    is_docstring = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    lines = source.splitlines()
    anchor = first if not is_docstring or len(function.body) == 1 else function.body[1]
    indent = lines[anchor.lineno - 1][: anchor.col_offset]
    at = first.end_lineno if is_docstring else first.lineno - 1
    assert at is not None
    block = [indent + line for line in imports if line] + [""]
    return "\n".join(lines[:at] + block + lines[at:]) + "\n"


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
            if definition["name"] in unused:
                continue
            if data_definition(definition):
                data += ["", "", *printer.definition(definition)]
                continue
            if definition["node"] == "Function":
                definition = {
                    **definition,
                    "source": imports_inside(definition["source"], definition["imports"]),
                }
            lines += ["", "", *printer.definition(definition)]
        constants = {d["name"]: d["value"] for d in module["definitions"] if "value" in d}
        for step in module["steps"]:
            if step["task_count"] > 1 and not self.uses_shared(step):
                table, rows = self.table(step, printer, constants)
                if long_rows(rows):
                    data += ["", "", *table]
                else:
                    lines += ["", "", *table]
        lines += [
            "",
            "",
            "@dag(",
            f"    dag_id={name!r},",
            "    schedule=None,",
            f"    start_date={START_DATE},",
            "    catchup=False,",
            f"    tags=['aorist', {name!r}],",
            "    doc_md=__doc__,",
            ")",
            f"def {name}() -> None:",
            "    tasks = {}",
        ]
        for step in module["steps"]:
            lines += ["", *self.step(step, printer)]
        if data:
            lines += ["", "", *comment(DATA_BANNER), *data[2:]]
        lines += ["", "", f"{name}()", ""]
        return black_format("\n".join(lines), printer.tables)

    def uses_shared(self, step: Node) -> bool:
        """Whether the step loops over a table it shares with others, as it stands."""
        table = step["table"]
        return bool(table and table["shared"] and not self.extra_columns(step))

    def table_name(self, step: Node) -> str:
        if self.uses_shared(step):
            return step["table"]["shared"]
        return step["table"]["name"].upper()

    @staticmethod
    def named(step: Node) -> bool:
        """Whether the table has a task column (else the id is built from row keys)."""
        return step["task_template"] is None

    @staticmethod
    def params(step: Node) -> list[str]:
        """The table's columns a task function takes (all but the task name)."""
        columns = step["table"]["columns"] if step["table"] else []
        return [c for c in columns if c != "task"] if columns[:1] == ["task"] else columns

    def table(
        self, step: Node, printer: PythonPrinter, constants: dict[str, Node]
    ) -> tuple[list[str], Node]:
        """The step's parameter table (its lines and its rows), with each task's upstream
        ids (and its outlet) where no template over the row's keys gives them."""
        table = step["table"]
        # A shared table's rows live in the constant it shares (`constants`).
        source = table["rows"] if table["shared"] is None else constants[table["shared"]]
        rows = []
        # Decided once per table: each check reads every row.
        upstream_column, outlet_column = self.upstream_column(step), self.outlet_column(step)
        for index, row in enumerate(source["items"]):
            items = row["items"] if row["node"] == "Tuple" else [row]
            extra = []
            if upstream_column:
                upstream = step["upstream"][index]
                extra.append(
                    {"node": "List", "items": [{"node": "Str", "value": u} for u in upstream]}
                )
            if outlet_column:
                extra.append({"node": "Str", "value": step["outlets"][index]})
            head, rest = (items[:1], items[1:]) if self.named(step) else ([], items)
            row = [*head, *extra, *rest]
            rows.append(row[0] if len(row) == 1 else {"node": "Tuple", "items": row})
        columns = self.columns(step)
        table = {"node": "List", "items": rows}
        return [
            *comment(f"{step['name']}: one row per task ({', '.join(columns)})."),
            printer.table(self.table_name(step), table),
        ], table

    def columns(self, step: Node) -> list[str]:
        head = ["task_id"] if self.named(step) else []
        return [*head, *self.extra_columns(step), *self.params(step)]

    @staticmethod
    def upstream_column(step: Node) -> bool:
        return step["upstream_template"] is None and any(step["upstream"])

    @staticmethod
    def outlet_column(step: Node) -> bool:
        return step["outlet_template"] is None and any(step["outlets"])

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
        columns = self.params(step) if looped else []
        task_id = repr(step["tasks"][0]) if not looped else "task_id"
        loop_id = "task_id" if self.named(step) else printer.expr(step["task_template"] or {})
        if step["language"] is None:
            lines = comment(f"{step['name']}: {step['doc']}", "    ")
            create = "EmptyOperator(task_id={task_id})"
        else:
            call = self.call(step)
            params = ", ".join(f"{c}" for c in columns)
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
                f"    def {step['name']}({params}) -> None:",
                f'        """{doc}{closing}"""',
                f"        {printer.expr(call)}",
                "",
            ]
            if looped:
                outlet = (
                    printer.expr(step["outlet_template"])
                    if step["outlet_template"] is not None
                    else "outlet"
                )
                has_outlet = step["outlet_template"] is not None or any(step["outlets"])
                outlets = f", outlets=[Asset(name={outlet})]" if has_outlet else ""
                arguments = ", ".join(f"{c}={c}" for c in columns)
                create = f"{step['name']}.override(task_id={{task_id}}{outlets})({arguments})"
            else:
                create = f"{step['name']}()"
        if looped:
            targets = self.columns(step)
            if not self.named(step):
                lines += [
                    f"    for {', '.join(targets)} in {self.table_name(step)}:",
                    f"        task_id = {loop_id}",
                ]
            else:
                lines.append(f"    for {', '.join(targets)} in {self.table_name(step)}:")
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
