"""The `python` dialect: a plain, self-contained Python script, formatted by black.

`PythonPrinter` prints AST nodes as Python source; the Jupyter and Airflow dialects
reuse it for their cells and task bodies.
"""

from __future__ import annotations

import ast
import functools
import textwrap
from collections.abc import Callable
from typing import ClassVar

import black

from aorist.dialects import _wiring as wiring
from aorist.dialects._base import (
    DATA_BANNER,
    Dialect,
    Node,
    data_definition,
    data_table_doc,
    long_rows,
    pip_names,
)


def string_literal(value: str) -> str:
    """A Python literal for `value`; multi-line code without risky characters is
    triple-quoted to stay legible."""
    if (
        "\n" in value
        and '"""' not in value
        and "\\" not in value
        and not value.endswith('"')
        and all(c.isprintable() or c == "\n" for c in value)
    ):
        return '"""' + value + '"""'
    return quoted(value)


def quoted(value: str) -> str:
    """`repr(value)`, re-quoted as black would leave it: double quotes unless that needs
    more escapes than single quotes do."""
    literal = repr(value)
    if literal[0] == '"':
        return literal
    body = literal[1:-1]
    double = body.replace("\\'", "'").replace('"', '\\"')
    if double.count("\\") > body.count("\\"):
        return literal
    return '"' + double + '"'


def comment(text: str, indent: str = "") -> list[str]:
    """Comment lines for trusted text (catalog and recipe docs, never user strings)."""
    width = 88 - len(indent) - 2
    return [f"{indent}# {line}" for line in textwrap.wrap(text, width)]


WIDTH = 88
PLACEHOLDER = "__aorist_table_{}__"


def black_format(
    source: str, tables: dict[str, Callable[[str, str], list[str]]] | None = None
) -> str:
    """Format with black, then splice in tables laid out as black lays them out.

    Parameter tables grow with the universe; black takes seconds on a 100,000-line
    file, so tables are formatted by `literal_lines` (which black leaves unchanged,
    checked by the fixed-point tests) and stand in black's input as placeholders.
    """
    formatted = "\n\n".join(black_chunk(chunk) for chunk in top_level_chunks(source))
    if not tables:
        return formatted
    out: list[str] = []
    for line in formatted.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.endswith("__") and " = __aorist_table_" in stripped:
            target, key = stripped.split(" = ")
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(row + "\n" for row in tables[key](indent, f"{target} = "))
        else:
            out.append(line)
    return "".join(out)


def top_level_chunks(source: str) -> list[str]:
    """`source` cut before each top-level function or class after its first statement
    (with its decorators and the comment lines right above it).

    black separates such a definition from what comes before and after it by exactly
    two blank lines and lays out each alone as in the whole, so the chunks can be
    formatted apart; a program's helpers and recipes are the same text from one
    universe to the next, and black's work on them is done once per process.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [source]  # black names the error
    lines = source.splitlines(keepends=True)
    starts = [0]
    for node in tree.body[1:]:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        while first > starts[-1] + 1 and lines[first - 1].startswith("#"):
            first -= 1
        if first > starts[-1]:
            starts.append(first)
    bounds = zip(starts, [*starts[1:], len(lines)], strict=True)
    return ["".join(lines[start:end]) for start, end in bounds]


@functools.lru_cache(maxsize=4096)
def black_chunk(chunk: str) -> str:
    """One chunk (see `top_level_chunks`) formatted by black, ending in one newline."""
    return black.format_str(chunk, mode=black.Mode())


class PythonPrinter:
    """Prints AST expressions, statements, definitions and steps as Python source."""

    def __init__(self) -> None:
        # Placeholders standing for parameter tables (see `black_format`).
        self.tables: dict[str, Callable[[str, str], list[str]]] = {}
        # Step tables printed under another name (module constants in the data section).
        self.renames: dict[str, str] = {}
        self.constants: dict[str, Node] = {}
        self.expressions: dict[str, Callable[[Node], str]] = {
            "Str": lambda n: string_literal(n["value"]),
            "Int": lambda n: repr(n["value"]),
            "Float": lambda n: repr(float(n["value"])),
            "Bool": lambda n: repr(n["value"]),
            "None": lambda n: "None",
            "Name": lambda n: self.name(n["id"]),
            "List": lambda n: "[" + ", ".join(self.expr(i) for i in n["items"]) + "]",
            "Tuple": self.tuple,
            "Call": self.call,
            "Format": self.format,
        }
        self.statements: dict[str, Callable[[Node, str], list[str]]] = {
            "Expr": lambda n, indent: [indent + self.expr(n["value"])],
            "For": self.for_loop,
        }

    def name(self, identifier: str) -> str:
        return self.renames.get(identifier, identifier)

    def expr(self, node: Node) -> str:
        return self.expressions[node["node"]](node)

    def literal_lines(
        self, node: Node, indent: str, prefix: str = "", suffix: str = ""
    ) -> list[str]:
        """A literal laid out as black does: on one line if it fits, else one item a line.

        Black splits a collection literal that does not fit into one element per line
        with a trailing comma, recursively; atoms (strings) are never split.
        """
        flat = self.expr(node)
        if len(indent) + len(prefix) + len(flat) + len(suffix) <= WIDTH or node["node"] not in (
            "List",
            "Tuple",
        ):
            return [indent + prefix + flat + suffix]
        opening, closing = ("[", "]") if node["node"] == "List" else ("(", ")")
        if not node["items"]:
            return [indent + prefix + opening + closing + suffix]
        lines = [indent + prefix + opening]
        for item in node["items"]:
            lines += self.literal_lines(item, indent + "    ", "", ",")
        lines.append(indent + closing + suffix)
        return lines

    def table(self, target: str, rows: Node) -> str:
        """`target = <rows>` as a placeholder statement; `black_format` splices the rows in."""
        key = PLACEHOLDER.format(len(self.tables))
        self.tables[key] = lambda indent, prefix: self.literal_lines(rows, indent, prefix)
        return f"{target} = {key}"

    def tuple(self, node: Node) -> str:
        items = [self.expr(i) for i in node["items"]]
        # No magic trailing comma (black would explode the tuple) except where required.
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"

    def format(self, node: Node) -> str:
        """An f-string over plain names; literal text is escaped like any string."""
        text, fields = "", dict[str, str]()
        for part in node["parts"]:
            if part["part"] == "Text":
                text += part["value"]
            else:
                marker = f"AORISTFIELD{len(fields)}X"
                while marker in text or any(
                    marker in p.get("value", "") for p in node["parts"]
                ):  # markers are letters only, so quoting leaves them intact
                    marker += "X"
                fields[marker] = part["name"]
                text += marker
        literal = quoted(text)
        literal = literal.replace("{", "{{").replace("}", "}}")
        for marker, name in fields.items():
            literal = literal.replace(marker, "{" + name + "}")
        return "f" + literal

    def call(self, node: Node) -> str:
        args = [self.expr(a) for a in node["args"]]
        args += [f"{k['name']}={self.expr(k['value'])}" for k in node["kwargs"]]
        return f"{node['func']}({', '.join(args)})"

    def stmt(self, node: Node, indent: str) -> list[str]:
        return self.statements[node["node"]](node, indent)

    def for_loop(self, node: Node, indent: str) -> list[str]:
        lines = [f"{indent}for {', '.join(node['targets'])} in {self.expr(node['iter'])}:"]
        for child in node["body"]:
            lines += self.stmt(child, indent + "    ")
        return lines

    def definition(self, definition: Node) -> list[str]:
        """A recipe function (pasted verbatim, it is trusted code) or a named constant."""
        if definition["node"] == "Function":
            return [*comment(f"From {definition['origin']}."), definition["source"].rstrip()]
        if definition["node"] == "Constant":
            value = definition["value"]
            origin = comment(f"From {definition['origin']}.") if definition["origin"] else []
            if value["node"] == "List":
                assignment = self.table(definition["name"], value)
            else:
                assignment = f"{definition['name']} = {self.expr(value)}"
            return [*comment(definition["doc"]), *origin, assignment]
        raise KeyError(definition["node"])

    def data_section(self, module: Node) -> list[str]:
        """The long tables, as module constants (steps' own tables renamed in upper case).

        Call before printing the steps: it renames the tables they loop over.
        """
        lines = []
        for definition in module["definitions"]:
            if data_definition(definition) and definition["name"] in self.shared_in_use(module):
                lines += ["", "", *self.definition(definition)]
        for step in module["steps"]:
            if step["table"] is None or self.uses_shared(step):
                continue
            rows = self.rows(step)
            if long_rows(rows):
                table = step["table"]
                self.renames[table["name"]] = table["name"].upper()
                lines += ["", "", *comment(data_table_doc(step))]
                lines.append(self.table(table["name"].upper(), rows))
        return [*comment(DATA_BANNER), *lines[2:]] if lines else []

    def prepare(self, module: Node) -> None:
        """Read the module's constants (shared tables) before printing anything."""
        self.constants = {d["name"]: d["value"] for d in module["definitions"] if "value" in d}

    def shared_in_use(self, module: Node) -> set[str]:
        """Shared tables some step still loops over (others gained columns of their own)."""
        used = {s["table"]["shared"] for s in module["steps"] if self.uses_shared(s)}
        shared = {s["table"]["shared"] for s in module["steps"] if s["table"]}
        return {d["name"] for d in module["definitions"] if d["name"] not in shared - used}

    def setting(self, setting: Node, from_environment: bool = True) -> list[str]:
        """`NAME = value`; the lake's path reads the environment variable LAKE_PATH first
        (a run-time parameter, API.md "Orchestrator options"), unless an orchestrator's
        own parameters carry it (`from_environment=False`)."""
        value = self.expr(setting["value"])
        if setting["name"] == "LAKE_PATH" and from_environment:
            doc = f"{setting['doc']} The environment variable LAKE_PATH, when set, moves it."
            return [*comment(doc), f'LAKE_PATH = os.environ.get("LAKE_PATH", {value})']
        return [*comment(setting["doc"]), f"{setting['name']} = {value}"]

    def step(self, step: Node, indent: str = "", describe: bool = True) -> list[str]:
        """What the step makes true (a comment), its parameter table, the code running it.

        Each task runs through `run.step(task, upstream, function, ...)`, which skips it
        when an upstream task failed (see recipes/runtime/python/run.py), or
        `run.background(...)`, the same in a thread, for a step that writes only its
        own files (`parallel` in the constraint catalog).
        """
        lines = comment(f"{step['name']}: {step['doc']}", indent) if describe else []
        table = step["table"]
        if table is not None and not self.uses_shared(step):
            name = self.table_name(step)
            if name == table["name"]:
                lines.append(indent + self.table(name, self.rows(step)))
        for statement in self.run_body(step, step["body"]):
            lines += self.stmt(statement, indent)
        return lines

    # Tables: a step whose tasks need an upstream column has a table of its own.
    def uses_shared(self, step: Node) -> bool:
        table = step["table"]
        return bool(table and table["shared"] and not wiring.upstream_column(step))

    def table_name(self, step: Node) -> str:
        if self.uses_shared(step):
            return step["table"]["shared"]
        return self.renames.get(step["table"]["name"], step["table"]["name"])

    def rows(self, step: Node) -> Node:
        return wiring.wired_rows(step, self.constants)

    def run_body(self, step: Node, body: list[Node]) -> list[Node]:
        """The step's statements, each task a call of `run.step`."""
        out: list[Node] = []
        task: Node | None = None
        for statement in body:
            if statement["node"] == "For":
                targets = [
                    *(["task"] if wiring.named(step) else []),
                    *(["upstream"] if wiring.upstream_column(step) else []),
                    *wiring.params(step),
                ]
                iterator = {"node": "Name", "id": self.table_name(step)}
                inner = self.run_body(step, statement["body"])
                out.append({**statement, "targets": targets, "iter": iterator, "body": inner})
            elif statement["node"] == "Progress":
                task = statement["task"]
            elif statement["node"] == "Expr" and task is not None:
                call = statement["value"]
                function = {"node": "Name", "id": call["func"]}
                args = [task, wiring.upstream_names(step), function, *call["args"]]
                # Steps that write only their own files run in background threads.
                runner = "run.background" if step.get("parallel") else "run.step"
                out.append({"node": "Expr", "value": {**call, "func": runner, "args": args}})
                task = None
            else:
                out.append(statement)
        if task is not None:  # a step that only gathers others
            call = {"node": "Call", "func": "run.step", "kwargs": []}
            out.append(
                {"node": "Expr", "value": {**call, "args": [task, wiring.upstream_names(step)]}}
            )
        return out


def module_doc(module: Node, run: str) -> list[str]:
    """The program's docstring lines: what it makes true, what it needs, its steps."""
    doc = [
        f"{module['name']}: make {', '.join(module['constraints'])} hold.",
        "",
        "Generated by aorist from the universe declaration; runs without aorist installed.",
    ]
    if module["libraries"]:
        doc.append(f"Needs the Python packages: {', '.join(pip_names(module['libraries']))}.")
    doc += ["", "Steps, in order:"]
    for step in module["steps"]:
        count = step["task_count"]
        entry = f"{step['name']} ({count} task{'s' if count > 1 else ''}): {step['doc']}"
        doc += textwrap.wrap(entry, 84, initial_indent="- ", subsequent_indent="  ")
    doc += ["", run]
    return doc


def lake_path(module: Node) -> str:
    """The expression naming the lake a program runs over (and locks)."""
    names = [setting["name"] for setting in module["settings"]]
    return "LAKE_PATH" if "LAKE_PATH" in names else repr("lake")


class PythonDialect(Dialect):
    name = "python"
    host = "python"
    suffix = ".py"
    default_preferences: ClassVar[tuple[str, ...]] = ("python", "sql", "bash", "r")

    def render(self, module: Node) -> str:
        printer = PythonPrinter()
        printer.prepare(module)
        doc = module_doc(module, f"Run it with `python {module['name']}.py`.")
        lines = ['"""' + "\n".join(doc) + '\n"""', "", *module["imports"], "", ""]
        for setting in module["settings"]:
            lines += printer.setting(setting)
        in_use = printer.shared_in_use(module)
        for definition in module["definitions"]:
            if not data_definition(definition) and definition["name"] in in_use:
                lines += ["", "", *printer.definition(definition)]
        data = printer.data_section(module)
        lines += [
            "",
            "",
            "def main(arguments: list[str] | None = None) -> None:",
            '    """Run every step, dependencies first; a failed step stops only what needs it.',
            "",
            "    With --dry-run, only say which steps are fresh, stale (and why) or missing.",
            '    """',
            f"    with Run({lake_path(module)}, arguments) as run:",
        ]
        for index, step in enumerate(module["steps"]):
            lines += [*([""] if index else []), *printer.step(step, "        ")]
        if data:
            lines += ["", "", *data]
        lines += ["", "", 'if __name__ == "__main__":', "    main(sys.argv[1:])", ""]
        return black_format("\n".join(lines), printer.tables)
