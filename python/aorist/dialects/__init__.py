"""Dialects: one renderer per output target, each printing the same AST.

A dialect declares the language its code is written in (its *host*), the recipe
languages it prefers by default, the file suffix it writes, and a `render(module)`
that returns the program's text.
"""

from __future__ import annotations

from aorist.dialects._base import Dialect
from aorist.dialects.airflow import AirflowDialect
from aorist.dialects.dagster import DagsterDialect
from aorist.dialects.hamilton import HamiltonDialect
from aorist.dialects.jupyter import JupyterDialect
from aorist.dialects.prefect import PrefectDialect
from aorist.dialects.python import PythonDialect
from aorist.dialects.r import RDialect

DIALECTS: dict[str, Dialect] = {
    dialect.name: dialect
    for dialect in [
        PythonDialect(),
        AirflowDialect(),
        JupyterDialect(),
        RDialect(),
        DagsterDialect(),
        PrefectDialect(),
        HamiltonDialect(),
    ]
}

__all__ = ["DIALECTS", "Dialect"]
