"""The `jupyter` dialect: an nbformat 4.5 notebook, as JSON text.

A title cell, a `parameters`-tagged cell papermill can override (the lake path), the
imports, one cell per recipe, then per step a markdown cell saying what it makes true
and a code cell doing it. Cell ids are derived from cell roles, so the notebook is
byte-identical across runs.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from aorist.dialects._base import Dialect, Node, data_definition
from aorist.dialects.python import PythonPrinter, black_format, lake_path, module_doc


def cell_id(role: str) -> str:
    """nbformat 4.5 ids: 1-64 characters of letters, digits, '-' and '_'."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", role)[:64]


def lines(text: str) -> list[str]:
    """Cell source as nbformat writes it: lines keeping their newlines, the last without."""
    return text.strip("\n").splitlines(keepends=True)


def markdown(role: str, text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": cell_id(role), "metadata": {}, "source": lines(text)}


def code(
    role: str, source: str, tags: list[str] | None = None, printer: PythonPrinter | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"tags": tags} if tags else {}
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id(role),
        "metadata": metadata,
        "outputs": [],
        "source": lines(black_format(source, printer.tables if printer else None)),
    }


class JupyterDialect(Dialect):
    name = "jupyter"
    host = "python"
    suffix = ".ipynb"
    default_preferences: ClassVar[tuple[str, ...]] = ("python", "sql", "bash", "r")

    def render(self, module: Node) -> str:
        printer = PythonPrinter()
        printer.prepare(module)
        doc = module_doc(module, "Run the cells in order; papermill can override `parameters`.")
        title = [f"# {doc[0]}", *doc[1:]]
        cells = [markdown("title", "\n".join(title))]
        # Papermill's parameters move the lake in a notebook (no environment lookup).
        settings = [
            line
            for setting in module["settings"]
            for line in printer.setting(setting, from_environment=False)
        ]
        cells.append(code("parameters", "\n".join(settings), tags=["parameters"]))
        if module["imports"]:
            cells.append(code("imports", "\n".join(module["imports"])))
        in_use = printer.shared_in_use(module)
        for definition in module["definitions"]:
            if data_definition(definition) or definition["name"] not in in_use:
                continue
            source = "\n".join(printer.definition(definition))
            cells.append(code(f"define-{definition['name']}", source, printer=printer))
        # Long tables go in one cell of their own, before the steps that loop over them.
        data = printer.data_section(module)
        if data:
            cells.append(code("data", "\n".join(data), printer=printer))
        cells.append(
            markdown(
                "lake-lock",
                "The run holds the lake's lock until the last cell; a failed step stops only"
                " the steps that need it.",
            )
        )
        cells.append(code("lake-start", f"run = Run({lake_path(module)}).start()"))
        for step in module["steps"]:
            count = step["task_count"]
            summary = f"{count} task{'s' if count > 1 else ''}"
            cells.append(
                markdown(f"about-{step['name']}", f"## {step['name']}\n\n{step['doc']} ({summary})")
            )
            body = printer.step(step, describe=False)
            cells.append(code(f"run-{step['name']}", "\n".join(body), printer=printer))
        cells.append(code("lake-finish", "run.finish()"))
        notebook = {
            "cells": cells,
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
                "aorist": {"constraints": module["constraints"], "name": module["name"]},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
