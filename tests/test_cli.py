"""The command line: generate and explain, via `python -m aorist`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CASES = Path(__file__).resolve().parent / "cases"


def aorist(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aorist", *args], capture_output=True, text=True, cwd=cwd
    )


def test_help_documents_every_command() -> None:
    result = aorist("--help")
    assert result.returncode == 0
    for command in ("generate", "explain"):
        assert command in result.stdout
        assert aorist(command, "--help").returncode == 0


def test_generate_writes_the_program(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = aorist("generate", f"{CASES / 'wine.py'}:universe", "-o", f"{out}/")
    assert result.returncode == 0, result.stderr
    written = out / "wine_lab.py"
    import runpy

    from aorist import dag

    universe = runpy.run_path(str(CASES / "wine.py"))["universe"]
    assert written.read_text() == dag(universe, ["AllAssetsComputed"], "python")


def test_generate_to_file_with_constraint_and_dialect(tmp_path: Path) -> None:
    out = tmp_path / "flow.py"
    result = aorist(
        "generate", str(CASES / "snap.py"), "--constraint", "AllAssetsComputed",
        "--dialect", "python", "--name", "snap_flow", "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    compile(out.read_text(), str(out), "exec")
    assert "snap_flow: make AllAssetsComputed hold." in out.read_text()


def test_explain_text_and_dot() -> None:
    text = aorist("explain", str(CASES / "wine.py"))
    assert text.returncode == 0, text.stderr
    assert "Downloaded @ universe 'wine_lab' / dataset 'wine' / asset 'wine_table'" in text.stdout
    dot = aorist("explain", str(CASES / "wine.py"), "--format", "dot")
    assert dot.stdout.startswith("digraph constraints {")
    assert dot.stdout.count("->") == text.stdout.count("<-") + text.stdout.count(", ")


def test_errors_exit_2_with_the_typed_message() -> None:
    result = aorist("generate", str(CASES / "wine.py"), "--dialect", "cobol")
    assert result.returncode == 2
    assert "UnknownDialectError" in result.stderr and "python" in result.stderr
    missing = aorist("generate", "no_such_file.py")
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_generate_names_each_dialects_file(tmp_path: Path) -> None:
    for dialect, suffix in [("airflow", ".py"), ("jupyter", ".ipynb"), ("r", ".R")]:
        out = tmp_path / dialect
        result = aorist("generate", str(CASES / "wine.py"), "-d", dialect, "-o", f"{out}/")
        assert result.returncode == 0, result.stderr
        assert (out / f"wine_lab{suffix}").is_file()
