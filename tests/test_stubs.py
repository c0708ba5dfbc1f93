"""python/aorist/_core.pyi must describe the compiled extension exactly."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from aorist import _core

STUB = Path(__file__).resolve().parent.parent / "python" / "aorist" / "_core.pyi"


def stub_functions() -> dict[str, list[str]]:
    tree = ast.parse(STUB.read_text())
    return {
        node.name: [a.arg for a in node.args.args]
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def test_stub_matches_compiled_module() -> None:
    compiled = {
        name: list(inspect.signature(obj).parameters)
        for name, obj in vars(_core).items()
        if callable(obj) and not name.startswith("_")
    }
    assert compiled == stub_functions()


def test_mypy_stubtest_agrees() -> None:
    from mypy import stubtest

    assert stubtest.test_stubs(stubtest.parse_options(["aorist._core"])) == 0
