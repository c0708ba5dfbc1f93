"""The `airflow` dialect: an Airflow 3 DAG file in TaskFlow style (`airflow.sdk`).

The DAG is what an Airflow author would write and commit (see `_mapping` for the layout):

- A step over many assets is one mapped task, and the steps that follow each other
  asset by asset form one mapped `@task_group` (map index = asset), inside a
  `@task_group` per dataset: a universe of 300 tables is a handful of tasks per dataset
  in the graph view, not thousands. Each map index is named after its constraint task
  (`map_index_template`), so the grid shows `ca_astroph_downloaded`, not `3`.
- Where data lives is a run-time `Param`: `lake_path` (default: the declared lake) and
  `work_dir` (where relative paths such as the temporary directory point). Relative
  values are read against the folder of this DAG file, the same on every worker, never
  against a worker's working directory.
- `default_args` carry the owner, retries with exponential backoff and an execution
  timeout, from the constraint catalog; a step that differs says so on its task.
- A table is announced (an asset event, through an `AssetAlias`) by the step that has
  verified it, with a URI naming its engine, place and table, and only when its
  published version changed: a rerun that changed nothing triggers no DAG downstream.

Airflow renders a task's arguments as Jinja templates (and reads an argument ending in
a template extension as a template file), so no task takes declared text as an
argument: a single task has its values as literals in its body, and a mapped task
receives only its row's index in the parameter table and reads the row itself. Declared
text (URLs, paths, digests, names) reaches the task as data, never as a template.
`airflow.sdk.literal()` would also stop the rendering, but every value would need the
wrapper, and a serialized DAG (what the scheduler and the UI see) stores its repr, not
the value; an index is an int, which Airflow neither renders nor needs to serialize
specially, and the row it names is in the same file the task runs from.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import textwrap
from collections.abc import Sequence
from typing import ClassVar

from aorist.dialects import _mapping as mapping
from aorist.dialects import _wiring as wiring
from aorist.dialects._base import DATA_BANNER, Dialect, Node, data_definition, long_rows
from aorist.dialects.python import PythonPrinter, black_format, comment, module_doc, quoted

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


# Module-level helpers every DAG has (trusted text, not recipes): where a task runs and
# how a verified table is announced. `{lake}` parts are dropped for a DAG without a lake.
RUN_DIRECTORY = '''
@contextlib.contextmanager
def run_directory(recipe=None):
    """Run a step where this run's relative paths point{lake_doc}.

    The run's `work_dir`{and_lake} parameter{s} (default{s}: the declared path{s}) {are} read
    against the folder of this file, the same on every worker, never against the
    working directory a worker happens to start its tasks in. A step whose outputs are
    all up to date (see `Task`) ends as a skipped task, which announces nothing.
    """{markers_import}
    context = get_current_context()
    params = context["params"]
    folder = os.path.dirname(os.path.abspath(__file__))
    work_dir = os.path.join(folder, params["work_dir"])
    os.makedirs(work_dir, exist_ok=True)
    task = Task(context.get("task_name") or context["ti"].task_id, recipe)
    token = TASK.set(task)
    try:
        with contextlib.chdir(work_dir):
            yield{lake_value}
    finally:
        TASK.reset(token)
    if task.outcomes and all(state == "fresh" for state, _ in task.outcomes):
        said = next((why for _, why in task.outcomes if why), "up to date")
        raise AirflowSkipException(said if said.startswith("up to date") else "up to date")
'''

TABLE_ASSET = '''
def table_asset(
    table: list[str], lake_path: str | None = None, where: str | None = None
) -> Asset:
    """The asset of a table: its URI names the table's engine and place (`where`, or
    the lake's directory) and the table, so two universes with a `snap` dataset do not
    collide."""
    import urllib.parse

    if lake_path is not None:
        where = "file://" + urllib.parse.quote(os.path.abspath(lake_path))
    return Asset(f"{where}/" + "/".join(urllib.parse.quote(part, safe="") for part in table))
'''

ANNOUNCE = '''
def announce(
    version: str | None,
    table: list[str],
    lake_path: str | None = None,
    where: str | None = None,
) -> None:
    """Announce a verified table as an asset event (see `table_asset`), unless nothing
    changed.

    `version` is the version publishing recorded (None for a table without one:
    announced every time). The last version announced is kept in `<lake>/.announced/`
    for a lake table, in `.announced/` of the run's `work_dir` for a table of another
    engine, so a rerun that changed nothing triggers no DAG downstream.
    """
    import urllib.parse

    if lake_path is not None:
        record = os.path.join(lake_path, ".announced", ".".join(table))
    else:
        place = urllib.parse.quote(str(where), safe="")
        record = os.path.join(os.path.abspath(".announced"), place, ".".join(table))
    asset = table_asset(table, lake_path, where)
    uri = asset.uri
    if version is not None and os.path.exists(record):
        with open(record, encoding="utf-8") as handle:
            if handle.read() == version:
                print(f"{uri}: unchanged, no asset event\\n", end="", flush=True)
                return
    events = get_current_context()["outlet_events"]
    events[AssetAlias(TABLES)].add(asset, extra={"version": version})
    if version is not None:
        os.makedirs(os.path.dirname(record), exist_ok=True)
        part = f"{record}.{os.getpid()}.part"
        with open(part, "w", encoding="utf-8") as handle:
            handle.write(version)
        os.replace(part, record)
'''

# The verifying step of each engine (its recipe function) and where its tables live.
WHERE = {
    "check_table": None,  # the lake: announce(..., lake_path=lake_path)
    "objectstore_check_table": "f\"s3://{OBJECT_STORE['bucket']}\"",
    "postgres_check_table": (
        "f\"postgres://{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}\""
    ),
    "spark_check_table": "\"file://\" + os.path.abspath(SPARK['warehouse_dir'])",
}

# Where the tables another DAG announces live, seen when this file is parsed: relative
# paths are read against its folder, as a run's default parameters read them.
FOLDER = "os.path.dirname(os.path.abspath(__file__))"
PARSE_WHERE = {
    "check_table": f"lake_path=os.path.join({FOLDER}, LAKE_PATH)",
    "objectstore_check_table": f"where={WHERE['objectstore_check_table']}",
    "postgres_check_table": f"where={WHERE['postgres_check_table']}",
    "spark_check_table": (
        f"where=\"file://\" + os.path.abspath(os.path.join({FOLDER}, SPARK['warehouse_dir']))"
    ),
}

OWNER = "aorist"
# A mapped group over more scattered rows than this names them in the data section.
SHORT_LANES = 12
RETRY_DELAY = "timedelta(seconds=30)"
MAX_RETRY_DELAY = "timedelta(minutes=10)"
BACKOFF = 2.0  # each retry waits twice as long as the one before, up to MAX_RETRY_DELAY


def replace_name(node: object, old: str, new: str) -> object:
    """`node` with every `Name` `old` read as `new`."""
    if isinstance(node, list):
        return [replace_name(item, old, new) for item in node]
    if isinstance(node, dict):
        if node.get("node") == "Name" and node.get("id") == old:
            return {**node, "id": new}
        return {key: replace_name(value, old, new) for key, value in node.items()}
    return node


def most_common(values: list[int]) -> int:
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return max(sorted(counts), key=lambda value: counts[value])


class AirflowDialect(Dialect):
    name = "airflow"
    host = "python"
    suffix = ".py"
    default_preferences: ClassVar[tuple[str, ...]] = ("python", "sql", "bash", "r")

    @staticmethod
    def in_library(definition: Node) -> bool:
        """A definition a library module holds: recipe code (functions, code constants)."""
        return definition["node"] == "Function" or bool(
            definition["node"] == "Constant" and definition["origin"]
        )

    def library_definitions(self, module: Node) -> list[Node]:
        """The definitions `render(module, library=...)` leaves to the library module."""
        return [d for d in module["definitions"] if self.in_library(d) and not d.get("program")]

    def render_library(self, name: str, definitions: list[Node]) -> str:
        """The library module: recipe code once, imported by the tasks of the DAG files."""
        printer = PythonPrinter()
        doc = [
            f"{name}: the recipe code of the DAG files next to it, written once.",
            "",
            "Generated by aorist; runs without aorist installed. Tasks import what they call",
            "from here when they run; Airflow's DAG processor never needs to import it.",
        ]
        lines = ['"""' + "\n".join(doc) + '\n"""', "", "from __future__ import annotations", ""]
        top: list[str] = []
        body: list[str] = []
        for definition in definitions:
            if definition["node"] == "Function":
                source, needed = imports_inside(definition["source"], definition["imports"])
                definition = {**definition, "source": source}
                top += [i for i in needed if i not in top]
            body += ["", "", *printer.definition(definition)]
        lines += sorted(top)
        lines += body
        return black_format("\n".join([*lines, ""]), printer.tables)

    def render(self, module: Node, library: str | None = None) -> str:
        """The DAG file; with `library`, the recipe code stays in the module of that name
        (see `render_library`) and each task imports what it calls from it."""
        printer = PythonPrinter()
        name = module["name"]
        steps = module["steps"]
        constants = {d["name"]: d["value"] for d in module["definitions"] if "value" in d}
        plan = mapping.layout(steps, constants)
        library_names = {d["name"] for d in self.library_definitions(module)} if library else set()
        has_lake = any(s["name"] == "LAKE_PATH" for s in module["settings"])
        doc = module_doc(
            module,
            "An Airflow 3 DAG: put this file in your deployment's DAGs folder. The workers"
            " need the Python packages above; tasks import them when they run. Trigger it"
            " with other `lake_path` / `work_dir` parameters to move where it works.",
        )
        verifying = [
            i
            for i, s in enumerate(steps)
            if (s["outlets"] or s["outlet_template"]) and not s["awaits"]
        ]
        reads = self.reads(steps)
        uses_empty = any(step["language"] is None for step in steps)
        sdk = ["Param", "dag", "get_current_context", "task"]
        if plan.blocks or any(plan.group.values()):
            sdk.append("task_group")
        if verifying or reads:
            sdk.append("Asset")
        if verifying:
            sdk.append("AssetAlias")
        if reads:
            sdk.append("AssetAny")
            if module.get("schedule"):
                sdk += ["AssetOrTimeSchedule", "CronTriggerTimetable"]
        lines = ['"""' + "\n".join(doc) + '\n"""', "", "from __future__ import annotations", ""]
        stdlib = [
            "import contextlib",
            "import os",
            "from datetime import datetime, timedelta, timezone",
        ]
        top_imports: list[str] = []
        stdlib_at = len(lines)
        lines.append("")
        if uses_empty:
            lines.append("from airflow.providers.standard.operators.empty import EmptyOperator")
        lines += [
            f"from airflow.sdk import {', '.join(sorted(sdk, key=str.lower))}",
            "from airflow.sdk.exceptions import AirflowSkipException",
            "",
            "",
        ]
        for setting in module["settings"]:
            # The lake's path is the default of the DAG's `lake_path` parameter.
            lines += printer.setting(setting, from_environment=False)
        if verifying:
            lines += [
                *comment(
                    "The alias every verified table of this DAG is announced through (an"
                    " asset event per table that changed, see `announce`)."
                ),
                f"TABLES = {quoted(name + ' tables')}",
            ]
        looped = [s for s in steps if s["task_count"] > 1 and s["language"] is not None]
        used_shared = {s["table"]["shared"] for s in looped if s["table"] and s["table"]["shared"]}
        shared = {s["table"]["shared"] for s in steps if s["table"]}
        data: list[str] = []
        for definition in module["definitions"]:
            if definition["name"] in shared - used_shared or definition.get("program"):
                continue  # Airflow runs, retries and isolates tasks itself: no runner.
            if library is not None and self.in_library(definition):
                continue
            if data_definition(definition):
                data += ["", "", *printer.definition(definition)]
                continue
            if definition["node"] == "Function":
                source, needed = imports_inside(definition["source"], definition["imports"])
                definition = {**definition, "source": source}
                top_imports += [i for i in needed if i not in top_imports]
            lines += ["", "", *printer.definition(definition)]
        lines += ["", "", *comment("Where tasks run (see the DAG's parameters).")]
        lines += self.run_directory(has_lake, library).strip("\n").splitlines()
        if verifying or reads:
            lines += ["", "", *TABLE_ASSET.strip("\n").splitlines()]
        if verifying:
            lines += ["", "", *ANNOUNCE.strip("\n").splitlines()]
        if reads:
            lines += [
                "",
                "",
                *comment(
                    "The tables this DAG reads, which other DAGs compute and announce: a"
                    " run starts when any of them changes."
                ),
                "READS = [",
                *(f"    table_asset({table}, {place})," for table, place in reads),
                "]",
            ]
        lines[stdlib_at:stdlib_at] = sorted(
            {*stdlib, *top_imports}, key=lambda i: (i.startswith("from"), i)
        )
        for step in looped:
            if not self.uses_shared(step):
                table, rows = self.table(step, printer)
                if long_rows(rows):
                    data += ["", "", *table]
                else:
                    lines += ["", "", *table]
        function = dag_function(name, module_names("\n".join([*lines, *data])))
        retries = most_common([s["retries"] for s in steps if s["language"] is not None] or [1])
        timeout = most_common(
            [s["timeout_minutes"] for s in steps if s["language"] is not None] or [60]
        )
        defaults = {"retries": retries, "timeout": timeout}
        schedule = module.get("schedule")
        params = [
            *(
                [
                    '        "lake_path": Param(',
                    "            LAKE_PATH,",
                    '            type="string",',
                    "            minLength=1,",
                    '            description="The lake directory; a relative path is read'
                    ' against the folder of this file.",',
                    "        ),",
                ]
                if has_lake
                else []
            ),
            '        "work_dir": Param(',
            '            ".",',
            '            type="string",',
            "            minLength=1,",
            '            description="Where relative paths (temporary files) point; a relative'
            ' path is read against the folder of this file.",',
            "        ),",
        ]
        lines += [
            "",
            "",
            "@dag(",
            f"    dag_id={quoted(name)},",
            f"    schedule={self.schedule(schedule, bool(reads))},",
            f"    start_date={START_DATE},",
            "    catchup=False,",
            # Runs of one DAG share its lake and temporary files: one at a time.
            "    max_active_runs=1,",
            "    default_args={",
            f"        'owner': {quoted(OWNER)},",
            f"        'retries': {retries},",
            f"        'retry_delay': {RETRY_DELAY},",
            f"        'retry_exponential_backoff': {BACKOFF},",
            f"        'max_retry_delay': {MAX_RETRY_DELAY},",
            f"        'execution_timeout': timedelta(minutes={timeout}),",
            # A step skipped as up to date does not stop the steps after it.
            "        'trigger_rule': 'none_failed',",
            "    },",
            "    params={",
            *params,
            "    },",
            f"    tags=['aorist', {quoted(name)}],",
            "    doc_md=__doc__,",
            ")",
            f"def {function}() -> None:",
            "    tasks = {}",
        ]
        for index, step in enumerate(steps):
            if step["language"] is not None:
                lines += [
                    "",
                    *self.task_function(
                        step, index in verifying, defaults, printer, library, library_names
                    ),
                ]
        taken = module_names("\n".join([*lines, *data])) | {function} | library_names
        # Long row lists of mapped groups join the data section (see `block`).
        data_rows: list[list[str]] = []
        lines += self.groups(steps, plan, taken, printer, data_rows)
        for table in data_rows:
            data += ["", "", *table]
        if data:
            lines += ["", "", *comment(DATA_BANNER), *data[2:]]
        lines += ["", "", f"{function}()", ""]
        return black_format("\n".join(lines), printer.tables)

    @staticmethod
    def schedule(schedule: str | None, reads: bool) -> str:
        """The DAG's `schedule`: its cron expression, the tables it reads, or both."""
        if not reads:
            return quoted(schedule) if schedule else "None"
        if not schedule:
            return "AssetAny(*READS)"
        return (
            "AssetOrTimeSchedule(timetable=CronTriggerTimetable("
            f"{quoted(schedule)}, timezone='UTC'), assets=AssetAny(*READS))"
        )

    def reads(self, steps: list[Node]) -> list[tuple[str, str]]:
        """(table, where) of every table the DAG reads from other DAGs, as Python source:
        the arguments of `table_asset`, evaluated when the file is parsed."""
        found: list[tuple[str, str]] = []
        for step in steps:
            if not step["awaits"]:
                continue
            call = self.call(step)
            assert isinstance(call, dict)
            if call["func"] not in PARSE_WHERE:
                raise self.unsupported(step, f"no asset URI for {call['func']!r}")
            for outlet in step["outlets"]:
                table = repr(outlet.split(".", 1))
                if (table, PARSE_WHERE[call["func"]]) not in found:
                    found.append((table, PARSE_WHERE[call["func"]]))
        return found

    @staticmethod
    def run_directory(has_lake: bool, library: str | None) -> str:
        # With a library, the markers (`Task`, `TASK`) are there, imported when a task runs.
        markers_import = f"\n    from {library} import TASK, Task\n" if library else ""
        parts = {
            "lake_doc": ", and give it the lake's path",
            "and_lake": " and `lake_path`",
            "s": "s",
            "are": "are",
            "lake_value": ' os.path.join(folder, params["lake_path"])',
        }
        if not has_lake:
            parts = {"lake_doc": "", "and_lake": "", "s": "", "are": "is", "lake_value": ""}
        return RUN_DIRECTORY.format(markers_import=markers_import, **parts)

    def uses_shared(self, step: Node) -> bool:
        table = step["table"]
        return bool(table and table["shared"])

    def table_name(self, step: Node) -> str:
        if self.uses_shared(step):
            return step["table"]["shared"]
        return step["table"]["name"].upper()

    named = staticmethod(wiring.named)
    params = staticmethod(wiring.params)

    def table(self, step: Node, printer: PythonPrinter) -> tuple[list[str], Node]:
        """The step's parameter table: its lines and its rows."""
        # Mapped groups wire the tasks: the table holds only the step's own columns.
        table = step["table"]["rows"]
        columns = self.columns(step)
        return [
            *comment(f"{step['name']}: one row per task ({', '.join(columns)})."),
            printer.table(self.table_name(step), table),
        ], table

    def columns(self, step: Node) -> list[str]:
        return [*(["task_id"] if self.named(step) else []), *self.params(step)]

    def task_function(
        self,
        step: Node,
        verifies: bool,
        defaults: dict[str, int],
        printer: PythonPrinter,
        library: str | None = None,
        library_names: frozenset[str] | set[str] = frozenset(),
    ) -> list[str]:
        """The `@task` function of a step: mapped (it takes its row's index) or single."""
        mapped = step["task_count"] > 1
        columns = self.columns(step) if mapped else []
        index = "row"
        while index in columns:
            index += "_"
        call = replace_name(self.call(step), "LAKE_PATH", "lake_path")
        assert isinstance(call, dict)
        options = []
        if not mapped:
            options.append(f"task_id={quoted(step['tasks'][0])}")
        else:
            # The grid names each map index after its task (set in the task's context).
            options.append('map_index_template="{{ task_name }}"')
        if step["retries"] != defaults["retries"]:
            options.append(f"retries={step['retries']}")
        if step["timeout_minutes"] != defaults["timeout"]:
            options.append(f"execution_timeout=timedelta(minutes={step['timeout_minutes']})")
        if verifies:
            options.append("outlets=[AssetAlias(TABLES)]")
        doc = "\n        ".join(textwrap.wrap(step["doc"], 76))
        closing = "\n        " if "\n" in doc else ""
        lines = [
            f"    @task({', '.join(options)})",
            f"    def {step['name']}({f'{index}: int' if mapped else ''}) -> None:",
            f'        """{doc}{closing}"""',
        ]
        used = names_in(call)
        imported = sorted(({call["func"]} | used) & set(library_names))
        if library and imported:
            lines.append(f"        from {library} import {', '.join(imported)}")
            lines.append("")
        if mapped:
            name_expr = "task_id" if self.named(step) else printer.expr(step["task_template"])
            row = unpacking(
                columns,
                used
                | names_in(step["task_template"] or {})
                | ({"task_id"} if self.named(step) else set()),
            )
            if row:
                lines.append(f"        {row} = {self.table_name(step)}[{index}]")
            lines.append(f'        get_current_context()["task_name"] = {name_expr}')
        uses_lake = "lake_path" in used
        recipe = call["func"]
        lines.append(f"        with run_directory({recipe}){' as lake_path' if uses_lake else ''}:")
        expression = printer.expr(call)
        if verifies:
            kwargs = {k["name"]: k["value"] for k in call["kwargs"]}
            table = printer.expr(kwargs["table"])
            if call["func"] not in WHERE:
                raise self.unsupported(step, f"no asset URI for {call['func']!r}")
            where = WHERE[call["func"]]
            place = "lake_path=lake_path" if where is None else f"where={where}"
            lines += [
                f"            version = {expression}",
                f"            announce(version, {table}, {place})",
            ]
        else:
            lines.append(f"            {expression}")
        return lines

    def groups(
        self,
        steps: list[Node],
        plan: mapping.Layout,
        taken: set[str],
        printer: PythonPrinter,
        data_rows: list[list[str]],
    ) -> list[str]:
        """The task groups: one per dataset, holding its mapped blocks and single tasks;
        then the dependencies between them."""
        needed = {ref for edge in plan.edges for ref in edge}
        by_group: dict[str | None, list[mapping.Ref]] = {}
        for index, block in enumerate(plan.blocks):
            by_group.setdefault(block.dataset, []).append(("block", index, block.steps[0]))
        for s, r in plan.singles:
            by_group.setdefault(plan.group[("task", s, r)], []).append(("task", s, r))
        taken = taken | {step["name"] for step in steps}
        ids: dict[mapping.Ref, str] = {}
        lines: list[str] = []
        for members in by_group.values():
            # In plan order, so a group reads top to bottom.
            members.sort(
                key=lambda ref: (ref[2], ref[1]) if ref[0] == "block" else (ref[1], ref[2])
            )
        order = sorted(by_group, key=lambda g: (g is None, g or ""))
        for group in order:
            body: list[str] = []
            indent = "        " if group is not None else "    "
            block_names: set[str] = set()
            for ref in by_group[group]:
                if ref[0] == "block":
                    body += self.block(
                        steps,
                        plan,
                        ref[1],
                        group,
                        block_names,
                        taken,
                        needed,
                        ids,
                        indent,
                        printer,
                        data_rows,
                    )
                else:
                    body += self.single(steps, plan, ref, group, needed, ids, indent)
            if group is None:
                lines += body
                continue
            function = self.unique(f"{group}_tables", taken)
            lines += [
                "",
                f"    @task_group(group_id={quoted(group)})",
                f"    def {function}() -> None:",
                *body,
                "",
                f"    {function}()",
            ]
        # Dependencies between nodes: every map index upstream before any downstream.
        upstream: dict[str, list[str]] = {}
        for a, b in plan.edges:
            upstream.setdefault(ids[b], [])
            if ids[a] not in upstream[ids[b]]:
                upstream[ids[b]].append(ids[a])
        if upstream:
            lines += [
                "",
                *comment("Between groups and tasks: all of one before any of the other.", "    "),
            ]
        for downstream, ups in upstream.items():
            refs = [f"tasks[{quoted(u)}]" for u in ups]
            left = refs[0] if len(refs) == 1 else f"[{', '.join(refs)}]"
            lines.append(f"    {left} >> tasks[{quoted(downstream)}]")
        return lines

    @staticmethod
    def unique(name: str, taken: set[str]) -> str:
        candidate, number = name, 2
        while candidate in taken or candidate in PYTHON_RESERVED:
            candidate, number = f"{name}_{number}", number + 1
        taken.add(candidate)
        return candidate

    @staticmethod
    def base_name(step: Node) -> str:
        """A step's name without the `_2` that tells plan steps of one constraint apart."""
        head, _, tail = step["name"].rpartition("_")
        return head if head and tail.isdigit() else step["name"]

    def block(
        self,
        steps: list[Node],
        plan: mapping.Layout,
        index: int,
        group: str | None,
        block_names: set[str],
        taken: set[str],
        needed: set,
        ids: dict,
        indent: str,
        printer: PythonPrinter,
        data_rows: list[list[str]],
    ) -> list[str]:
        block = plan.blocks[index]
        first, last = (self.base_name(steps[s]) for s in (block.steps[0], block.steps[-1]))
        group_id = first if first == last else f"{first}_to_{last}"
        number, candidate = 2, group_id
        while candidate in block_names:
            candidate, number = f"{group_id}_{number}", number + 1
        block_names.add(candidate)
        group_id = candidate
        prefix = f"{group}.{group_id}" if group is not None else group_id
        function = self.unique(f"{group}_{group_id}" if group else group_id, taken)
        local_ids: set[str] = set()
        body = []
        variables: dict[int, str] = {}
        for s in block.steps:
            step = steps[s]
            task_id = self.base_name(step)
            if task_id in local_ids:
                task_id = step["name"]
            local_ids.add(task_id)
            variable = f"{step['name']}_task"
            variables[s] = variable
            call = (
                step["name"]
                if task_id == step["name"]
                else (f"{step['name']}.override(task_id={quoted(task_id)})")
            )
            body.append(f"{indent}    {variable} = {call}(row)")
            ids[("block", index, s)] = f"{prefix}.{task_id}"
            if ("block", index, s) in needed:
                body.append(f"{indent}    tasks[{quoted(prefix + '.' + task_id)}] = {variable}")
        body += [f"{indent}    {line}" for line in self.chains(block.chained, variables)]
        lanes = block.lanes
        if lanes == list(range(lanes[0], lanes[-1] + 1)) and len(lanes) > 1:
            expand = (
                f"list(range({lanes[0]}, {lanes[-1] + 1}))"
                if lanes[0]
                else (f"list(range({len(lanes)}))")
            )
        elif len(lanes) <= SHORT_LANES:
            expand = repr(lanes)
        else:
            # A long, scattered list of rows goes to the data section.
            expand = f"{function.upper()}_ROWS"
            rows = {"node": "List", "items": [{"node": "Int", "value": lane} for lane in lanes]}
            data_rows.append(
                [
                    *comment(f"The rows the group {prefix} maps over."),
                    printer.table(expand, rows),
                ]
            )
        return [
            "",
            *comment(
                f"{len(lanes)} task{'s' if len(lanes) > 1 else ''} per step, one map index"
                " each: index i of a task waits only for index i of the tasks before it.",
                indent,
            ),
            f"{indent}@task_group(group_id={quoted(group_id)})",
            f"{indent}def {function}(row: int) -> None:",
            *body,
            "",
            f"{indent}{function}.expand(row={expand})",
        ]

    @staticmethod
    def chains(edges: list[tuple[int, int]], variables: dict[int, str]) -> list[str]:
        """`a >> b >> c` for each run of steps that follow one another one to one;
        `[a, b] >> c` where a step waits for several."""
        ups: dict[int, list[int]] = {}
        downs: dict[int, list[int]] = {}
        for a, b in edges:
            ups.setdefault(b, []).append(a)
            downs.setdefault(a, []).append(b)

        def linked(a: int, b: int) -> bool:
            return len(downs.get(a, [])) == 1 and len(ups.get(b, [])) == 1

        lines, done = [], set()
        for a, b in edges:
            if (a, b) in done or not linked(a, b):
                continue
            # Extend to the run's first and last step.
            while len(ups.get(a, [])) == 1 and linked(ups[a][0], a):
                a = ups[a][0]
            run = [a]
            while len(downs.get(run[-1], [])) == 1 and linked(run[-1], downs[run[-1]][0]):
                done.add((run[-1], downs[run[-1]][0]))
                run.append(downs[run[-1]][0])
            lines.append(" >> ".join(variables[s] for s in run))
        for b, sources in ups.items():
            rest = [a for a in sources if (a, b) not in done]
            if rest:
                left = (
                    variables[rest[0]]
                    if len(rest) == 1
                    else f"[{', '.join(variables[a] for a in rest)}]"
                )
                lines.append(f"{left} >> {variables[b]}")
        return lines

    def single(
        self,
        steps: list[Node],
        plan: mapping.Layout,
        ref: mapping.Ref,
        group: str | None,
        needed: set,
        ids: dict,
        indent: str,
    ) -> list[str]:
        _, s, r = ref
        step = steps[s]
        task_name = plan.tasks[s].names[r]
        full = f"{group}.{task_name}" if group is not None else task_name
        ids[ref] = full
        if step["language"] is None:
            lines = comment(f"{step['name']}: {step['doc']}", indent)
            create = f"EmptyOperator(task_id={quoted(task_name)})"
        else:
            lines = []
            create = f"{step['name']}()"
        target = f"tasks[{quoted(full)}] = " if ref in needed else ""
        return ["", *lines, f"{indent}{target}{create}"]

    def call(self, step: Node) -> Node:
        """The recipe call a step makes (inside its loop, if it loops)."""
        body = step["body"]
        if body and body[0]["node"] == "For":
            body = body[0]["body"]
        calls = [s["value"] for s in body if s["node"] == "Expr"]
        if len(calls) != 1:
            raise self.unsupported(step, "a step must make exactly one recipe call")
        return calls[0]
