"""The `r` dialect: an R script in tidyverse style that passes lintr's default linters.

`<-` assignment, two-space indents, double quotes, snake_case names, lines of at most
80 characters (long calls break one argument per line; long strings are split with
`paste0`). Each step is a function named after it that loops over its parameter table;
`main()` runs them in order. SQL recipes run on the embedded lake through the DuckDB
command-line program (R's duckdb package is not assumed).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import ClassVar

from aorist.dialects._base import (
    DATA_BANNER,
    Dialect,
    Node,
    data_definition,
    data_table,
    data_table_doc,
)

WIDTH = 80
INDENT = "  "


def r_name(name: str) -> str:
    """R object names are snake_case (lintr's object_name_linter)."""
    return name.lower()


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
            out.append(f"\\u{{{ord(char):04x}}}")
        else:
            out.append(char)
    return "".join(out)


def comment(text: str, indent: str = "") -> list[str]:
    width = WIDTH - len(indent) - 2
    return [f"{indent}# {line}" for line in textwrap.wrap(text, width)] or [f"{indent}#"]


class RPrinter:
    """Prints AST expressions and statements as R, breaking lines to fit 80 columns."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        # Names the script uses under another name (each step's table is its `tasks`).
        self.renames: dict[str, str] = {}
        self.statements: dict[str, Callable[[Node, str], list[str]]] = {
            "Expr": lambda n, indent: self.expr(n["value"], indent, indent),
            "Progress": lambda n, indent: self.expr(
                {
                    "node": "Call",
                    "func": "message",
                    "args": [{"node": "Str", "value": "running "}, n["task"]],
                    "kwargs": [],
                },
                indent,
                indent,
            ),
            "For": self.for_loop,
        }

    # ------------------------------------------------------------------ expressions

    @staticmethod
    def desugar(node: Node) -> Node:
        """A format string is `paste0()` of its text and variables."""
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
            f"{k['name']} = {show(k['value'])}" for k in node["kwargs"]
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
                label = f"{name} = " if name else ""
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
    default_preferences: ClassVar[tuple[str, ...]] = ("r", "sql", "bash")

    def render(self, module: Node) -> str:
        printer = RPrinter(self)
        names = {d["name"] for d in module["definitions"]}
        lines = comment(f"{module['name']}: make {', '.join(module['constraints'])} hold.")
        lines += [
            "#",
            *comment(
                "Generated by aorist from the universe declaration; runs without aorist "
                "installed. Needs R and the DuckDB command-line program (`duckdb`) on the "
                "PATH for the SQL steps."
            ),
            "#",
            "# Steps, in order:",
        ]
        for step in module["steps"]:
            count = step["task_count"]
            entry = f"{step['name']} ({count} task{'s' if count > 1 else ''}): {step['doc']}"
            wrapped = textwrap.wrap(entry, WIDTH - 2, initial_indent="- ", subsequent_indent="  ")
            lines += [f"# {line}" for line in wrapped]
        lines += ["#", f"# Run it with `Rscript {module['name']}.R`.", ""]
        for setting in module["settings"]:
            lines += comment(setting["doc"])
            lines += printer.expr(setting["value"], f"{r_name(setting['name'])} <- ", "")
        # Long tables go to a data section before `main()` runs (see DATA_ROWS).
        data: list[str] = []
        for definition in module["definitions"]:
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
            lines.append(f"{step['name']} <- function() {{")
            if data_table(step):
                table = step["table"]
                data += ["", *comment(data_table_doc(step))]
                data += printer.expr(table["rows"], f"{r_name(table['name'])} <- ", "")
                printer.renames[table["name"]] = r_name(table["name"])
            elif step["table"] is not None and step["table"]["shared"] is None:
                printer.renames[step["table"]["name"]] = "tasks"
                lines += printer.expr(step["table"]["rows"], f"{INDENT}tasks <- ", INDENT)
            for statement in step["body"]:
                lines += printer.stmt(statement, INDENT)
            lines.append("}")
        if data:
            lines += ["", *comment(DATA_BANNER), *data[1:]]
        lines += ["", "main <- function() {"]
        lines += [f"{INDENT}{step['name']}()" for step in module["steps"]]
        lines += ["}", "", "main()", ""]
        return "\n".join(lines)
