"""The `r` dialect: an R script in tidyverse style that passes lintr's default linters.

`<-` assignment, two-space indents, double quotes, snake_case names, lines of at most
80 characters (long calls break one argument per line; long strings are split with
`paste0`). Each step is a function named after it that loops over its parameter table;
`main()` takes the lake's lock and runs them in order. Each task runs through
`run_step(run, task, upstream, function, ...)` (recipes/runtime/r/run.R), which skips
it when an upstream task failed; a failed task is reported and the run goes on, and
the script exits with status 1 listing the failures. SQL recipes run on the embedded
lake through the DuckDB command-line program (R's duckdb package is not assumed).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import ClassVar

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

WIDTH = 80
INDENT = "  "
# The arguments `run_step()` takes before a task's own (recipes/runtime/r/run.R).
RUNNER_FORMALS = ("run", "task", "upstream", "fun")


# R's reserved words: as a name or an argument name, each must be backquoted.
R_RESERVED = frozenset(
    "if else repeat while function for in next break TRUE FALSE NULL Inf NaN NA "
    "NA_integer_ NA_real_ NA_complex_ NA_character_".split()
)


def r_name(name: str) -> str:
    """R object names are snake_case (lintr's object_name_linter); reserved words are
    backquoted (a recipe parameter may be called `function`)."""
    return quote_reserved(name.lower())


def quote_reserved(name: str) -> str:
    """An argument name as R parses it: reserved words backquoted, others as they are."""
    return f"`{name}`" if name in R_RESERVED else name


def escape(value: str) -> str:
    out = []
    for char in value:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif char == "\0":
            raise ValueError("R strings cannot hold NUL characters")
        elif not char.isprintable():
            # R's \u{...} takes at most four hex digits; \U{...} up to eight.
            code = ord(char)
            out.append(f"\\u{{{code:04x}}}" if code <= 0xFFFF else f"\\U{{{code:08x}}}")
        else:
            out.append(char)
    return "".join(out)


def comment(text: str, indent: str = "") -> list[str]:
    width = WIDTH - len(indent) - 2
    return [f"{indent}# {line}" for line in textwrap.wrap(text, width)] or [f"{indent}#"]


class RPrinter:
    """Prints AST expressions and statements as R, breaking lines to fit 80 columns."""

    # The variable each step function takes: the run (see recipes/runtime/r/run.R).
    run: ClassVar[Node] = {"node": "Name", "id": "run"}

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        # Names the script uses under another name (each step's table is its `tasks`).
        self.renames: dict[str, str] = {}
        self.statements: dict[str, Callable[[Node, str], list[str]]] = {
            "Expr": lambda n, indent: self.expr(n["value"], indent, indent),
            "For": self.for_loop,
        }

    # ------------------------------------------------------------------ expressions

    @staticmethod
    def desugar(node: Node) -> Node:
        """A format string is `paste0()` of its text and variables; a `dict()` of settings
        is a named `list()`."""
        if node["node"] == "Call" and node["func"] == "dict" and not node["args"]:
            return {**node, "func": "list"}
        if node["node"] != "Format":
            return node
        args = [
            {"node": "Str", "value": p["value"]}
            if p["part"] == "Text"
            else {"node": "Name", "id": p["name"]}
            for p in node["parts"]
        ]
        return {"node": "Call", "func": "paste0", "args": args, "kwargs": []}

    def flat(self, node: Node) -> str:
        """The expression on one line."""
        node = self.desugar(node)
        kind = node["node"]
        if kind == "Str":
            return '"' + escape(node["value"]) + '"'
        if kind == "Int":
            return str(node["value"])
        if kind == "Float":
            return repr(float(node["value"]))
        if kind == "Bool":
            return "TRUE" if node["value"] else "FALSE"
        if kind == "None":
            return "NULL"
        if kind == "Name":
            return self.renames.get(node["id"], r_name(node["id"]))
        if kind in ("List", "Tuple"):
            return f"{self.vector(node)}({', '.join(self.flat(i) for i in node['items'])})"
        if kind == "Call":
            return f"{r_name(node['func'])}({', '.join(self.arguments(node, self.flat))})"
        raise self.dialect.unsupported(node)

    @staticmethod
    def vector(node: Node) -> str:
        """Atomic vectors for lists of scalars of one kind; lists otherwise."""
        kinds = {item["node"] for item in node["items"]}
        return "c" if len(kinds) == 1 and kinds <= {"Str", "Int", "Float", "Bool"} else "list"

    def arguments(self, node: Node, show: Callable[[Node], str]) -> list[str]:
        return [show(a) for a in node["args"]] + [
            f"{quote_reserved(k['name'])} = {show(k['value'])}" for k in node["kwargs"]
        ]

    def expr(self, node: Node, first: str, indent: str, suffix: str = "") -> list[str]:
        """`node` starting after `first` on its first line, continuation lines at `indent`."""
        node = self.desugar(node)
        flat = self.flat(node)
        if len(first) + len(flat) + len(suffix) <= WIDTH:
            return [first + flat + suffix]
        kind = node["node"]
        inner = indent + INDENT
        if kind == "Str":
            return self.long_string(node["value"], first, inner, suffix)
        if kind in ("List", "Tuple", "Call"):
            if kind == "Call":
                head = r_name(node["func"]) + "("
                parts = [(None, a) for a in node["args"]] + [
                    (k["name"], k["value"]) for k in node["kwargs"]
                ]
            else:
                head = self.vector(node) + "("
                parts = [(None, item) for item in node["items"]]
            lines = [first + head]
            for position, (name, value) in enumerate(parts):
                comma = "," if position < len(parts) - 1 else ""
                label = f"{quote_reserved(name)} = " if name else ""
                lines += self.expr(value, inner + label, inner, comma)
            lines.append(indent + ")" + suffix)
            return lines
        return [first + flat + suffix]

    def long_string(self, value: str, first: str, indent: str, suffix: str) -> list[str]:
        """A string too long for one line, as `paste0()` of pieces that fit."""
        budget = WIDTH - len(indent) - 3
        pieces, current = [], ""
        for char in value:
            if len(escape(current + char)) > budget:
                pieces.append(current)
                current = ""
            current += char
        pieces.append(current)
        lines = [first + "paste0("]
        for position, piece in enumerate(pieces):
            comma = "," if position < len(pieces) - 1 else ""
            lines.append(f'{indent}"{escape(piece)}"{comma}')
        lines.append(indent[: -len(INDENT)] + ")" + suffix)
        return lines

    # ------------------------------------------------------------------ statements

    def run_body(self, step: Node, body: list[Node], table: str | None) -> list[Node]:
        """The step's statements, each task a call of `run_step` (see recipes/runtime/r/run.R).

        A loop gains the task name and upstream columns its table has (`_wiring`) and
        iterates over `table`.
        """
        out: list[Node] = []
        task: Node | None = None
        for statement in body:
            if statement["node"] == "For":
                targets = [
                    *(["task"] if wiring.named(step) else []),
                    *(["upstream"] if wiring.upstream_column(step) else []),
                    *wiring.params(step),
                ]
                inner = self.run_body(step, statement["body"], table)
                iterator = {"node": "Name", "id": table} if table else statement["iter"]
                out.append({**statement, "targets": targets, "iter": iterator, "body": inner})
            elif statement["node"] == "Progress":
                task = statement["task"]
            elif statement["node"] == "Expr" and task is not None:
                call = statement["value"]
                for keyword in call["kwargs"]:
                    if any(formal.startswith(keyword["name"]) for formal in RUNNER_FORMALS):
                        raise self.dialect.unsupported(
                            call,
                            f"the recipe parameter {keyword['name']!r} would be taken "
                            "for an argument of run_step()",
                        )
                function = {"node": "Name", "id": call["func"]}
                args = [self.run, task, wiring.upstream_names(step), function, *call["args"]]
                out.append({"node": "Expr", "value": {**call, "func": "run_step", "args": args}})
                task = None
            else:
                out.append(statement)
        if task is not None:  # a step that only gathers others
            args = [self.run, task, wiring.upstream_names(step)]
            call = {"node": "Call", "func": "run_step", "args": args, "kwargs": []}
            out.append({"node": "Expr", "value": call})
        return out

    def stmt(self, node: Node, indent: str) -> list[str]:
        return self.statements[node["node"]](node, indent)

    def for_loop(self, node: Node, indent: str) -> list[str]:
        inner = indent + INDENT
        lines = [f"{indent}for (row in {self.flat(node['iter'])}) {{"]
        for position, target in enumerate(node["targets"], start=1):
            lines.append(f"{inner}{r_name(target)} <- row[[{position}]]")
        for child in node["body"]:
            lines += self.stmt(child, inner)
        lines.append(indent + "}")
        return lines


class RDialect(Dialect):
    name = "r"
    host = "r"
    suffix = ".R"
    # Python recipes (an ORC target, models) run through run_python.R when no other
    # recipe is available.
    default_preferences: ClassVar[tuple[str, ...]] = ("r", "sql", "bash", "python")

    def render(self, module: Node) -> str:
        printer = RPrinter(self)
        names = {d["name"] for d in module["definitions"]}
        constants = {d["name"]: d["value"] for d in module["definitions"] if "value" in d}
        # A step whose tasks need an upstream column loops over a table of its own.
        shared = {s["table"]["shared"] for s in module["steps"] if s["table"]}
        in_use = {s["table"]["shared"] for s in module["steps"] if uses_shared(s)}
        lines = comment(f"{module['name']}: make {', '.join(module['constraints'])} hold.")
        lines += [
            "#",
            *comment(
                "Generated by aorist from the universe declaration; runs without aorist "
                "installed. Needs R and the DuckDB command-line program (`duckdb`) on the "
                "PATH for the SQL steps." + python_needs(module)
            ),
            "#",
            "# Steps, in order:",
        ]
        for step in module["steps"]:
            count = step["task_count"]
            entry = f"{step['name']} ({count} task{'s' if count > 1 else ''}): {step['doc']}"
            wrapped = textwrap.wrap(entry, WIDTH - 2, initial_indent="- ", subsequent_indent="  ")
            lines += [f"# {line}" for line in wrapped]
        lines += [
            "#",
            *comment(
                f"Run it with `Rscript {module['name']}.R`. It holds the lake's lock while "
                "it runs; a failed task stops only the tasks that need it, and the script "
                "then exits with status 1, listing the failures."
            ),
            "",
        ]
        for setting in module["settings"]:
            if setting["name"] == "LAKE_PATH":
                # A run-time parameter (API.md "Orchestrator options").
                doc = f"{setting['doc']} The environment variable LAKE_PATH, when set, moves it."
                lines += comment(doc)
                prefix = 'lake_path <- Sys.getenv("LAKE_PATH", '
                lines += printer.expr(setting["value"], prefix, "", ")")
                continue
            lines += comment(setting["doc"])
            lines += printer.expr(setting["value"], f"{r_name(setting['name'])} <- ", "")
        # Long tables go to a data section before `main()` runs (see DATA_ROWS).
        data: list[str] = []
        for definition in module["definitions"]:
            if definition["name"] in shared - in_use:
                continue
            if data_definition(definition):
                data += ["", *comment(definition["doc"])]
                data += printer.expr(definition["value"], f"{r_name(definition['name'])} <- ", "")
                continue
            lines.append("")
            if definition["node"] == "Function":
                lines += comment(f"From {definition['origin']}.")
                lines.append(definition["source"].rstrip())
            else:
                lines += comment(definition["doc"])
                if definition["origin"]:
                    lines += comment(f"From {definition['origin']}.")
                value = definition["value"]
                target = f"{r_name(definition['name'])} <- "
                literal = None
                if value["node"] == "Str" and "\n" in value["value"]:
                    # Code (SQL) keeps its lines: newlines stay literal inside the quotes.
                    text = "\n".join(escape(line) for line in value["value"].split("\n"))
                    literal = (target + '"' + text + '"').split("\n")
                if literal and max(map(len, literal)) <= WIDTH:
                    lines += literal
                else:
                    lines += printer.expr(value, target, "")
        for step in module["steps"]:
            if step["name"] in names:
                raise self.unsupported(step, f"step {step['name']!r} would shadow a recipe")
            lines += ["", *comment(f"{step['name']}: {step['doc']}")]
            lines.append(f"{step['name']} <- function(run) {{")
            table = step["table"]
            iterator = None
            if table is not None and uses_shared(step):
                iterator = table["shared"]
            elif table is not None:
                iterator = table["name"]
                rows = wiring.wired_rows(step, constants)
                if long_rows(rows):
                    data += ["", *comment(data_table_doc(step))]
                    data += printer.expr(rows, f"{r_name(table['name'])} <- ", "")
                    printer.renames[table["name"]] = r_name(table["name"])
                else:
                    printer.renames[table["name"]] = "tasks"
                    lines += printer.expr(rows, f"{INDENT}tasks <- ", INDENT)
            for statement in printer.run_body(step, step["body"], iterator):
                lines += printer.stmt(statement, INDENT)
            lines.append("}")
        if data:
            lines += ["", *comment(DATA_BANNER), *data[1:]]
        lines += [
            "",
            *comment("Run every step, dependencies first; a failed step stops only what needs it."),
            "main <- function() {",
            f"{INDENT}run <- run_start({lake_path(module)})",
            f"{INDENT}on.exit(run_finish(run, interrupted = TRUE))",
        ]
        lines += [f"{INDENT}{step['name']}(run)" for step in module["steps"]]
        lines += [f"{INDENT}run_finish(run)", "}", "", "main()", ""]
        return "\n".join(lines)


def python_needs(module: Node) -> str:
    """What the script's Python steps need (run by recipes/runtime/r/run_python.R)."""
    if not any(step.get("language") == "python" for step in module["steps"]):
        return ""
    libraries = pip_names(module.get("libraries") or [])
    packages = f" with the packages {', '.join(libraries)}" if libraries else ""
    return (
        f" The Python steps need Python 3{packages}: they run with `python3`, or the "
        "interpreter the environment variable AORIST_PYTHON names."
    )


def uses_shared(step: Node) -> bool:
    """Whether the step loops over a table it shares (one without an upstream column)."""
    table = step["table"]
    return bool(table and table["shared"] and not wiring.upstream_column(step))


def lake_path(module: Node) -> str:
    """The expression naming the lake a script runs over (and locks)."""
    names = [setting["name"] for setting in module["settings"]]
    return "lake_path" if "LAKE_PATH" in names else '"lake"'
