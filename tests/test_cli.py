"""The command line: generate and explain, via `python -m aorist`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_generate_no_fuse_binds_one_recipe_per_constraint(tmp_path: Path) -> None:
    import runpy

    from aorist import dag

    universe = runpy.run_path(str(CASES / "snap.py"))["universe"]
    for flags, fuse in (([], True), (["--no-fuse"], False)):
        out = tmp_path / f"{fuse}.py"
        result = aorist("generate", str(CASES / "snap.py"), *flags, "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert out.read_text() == dag(universe, ["AllAssetsComputed"], "python", fuse=fuse)
    assert "def load_source(" in (tmp_path / "True.py").read_text()
    assert "def load_source(" not in (tmp_path / "False.py").read_text()


def test_explain_text_and_dot() -> None:
    text = aorist("explain", str(CASES / "wine.py"))
    assert text.returncode == 0, text.stderr
    assert "Downloaded @ universe 'wine_lab' / dataset 'wine' / asset 'wine_table'" in text.stdout
    dot = aorist("explain", str(CASES / "wine.py"), "--format", "dot")
    assert dot.stdout.startswith("digraph constraints {")
    assert dot.stdout.count("->") == text.stdout.count("<-") + text.stdout.count(", ")


def test_explain_assets_shows_lineage_as_text_and_dot() -> None:
    text = aorist("explain", str(CASES / "derived.py"), "--assets")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    order = [line.split()[0] for line in lines]
    # Sources first: each asset after every asset it is computed from.
    for line in lines:
        for source in re.findall(r"=([\w.]+)", line.split("  [")[0]):
            assert order.index(source) < order.index(line.split()[0]), line
    assert (
        "nodes.size_predictions <- data=nodes.measures, model=nodes.size_model  "
        "[regression predictions of the model in models/size_model.onnx]"
    ) in lines
    dot = aorist("explain", str(CASES / "derived.py"), "--assets", "--format", "dot")
    assert dot.stdout.startswith("digraph lineage {")
    assert dot.stdout.count("->") == text.stdout.count("=")


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


# ----------------------------------------------------------------------- loading the file

SIBLING_HELPERS = """\
from aorist import (
    CSVEncoding, DataSet, NumericIdentifier, RemoteStorage, RemoteStorageSetup, RowStruct,
    StaticDataTable, WebLocation, default_tabular_schema,
)

ROW = RowStruct(name="edge", attributes=[NumericIdentifier("a"), NumericIdentifier("b")])


def make_table(name):
    remote = RemoteStorage(
        location=WebLocation(address=f"https://example.org/{name}.csv"), encoding=CSVEncoding()
    )
    return StaticDataTable(
        name=name, schema=default_tabular_schema(ROW), setup=RemoteStorageSetup(remote=remote)
    )


def make_dataset(names):
    return DataSet(name="graphs", datum_templates=[ROW], assets=[make_table(n) for n in names])
"""

SIBLING_UNIVERSE = """\
from aorist import Universe
from {module} import make_dataset

universe = Universe(name="siblings", datasets=[make_dataset(["first", "second"])])
"""


def write_sibling_universe(directory: Path, module: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{module}.py").write_text(SIBLING_HELPERS)
    universe = directory / "lab.py"
    universe.write_text(SIBLING_UNIVERSE.format(module=module))
    return universe


def test_the_universe_file_imports_a_module_next_to_it(tmp_path: Path) -> None:
    universe = write_sibling_universe(tmp_path / "project", "helpers")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    generated = aorist("generate", str(universe), cwd=elsewhere)
    assert generated.returncode == 0, generated.stderr
    assert "second_temporary_files_removed" in generated.stdout
    compile(generated.stdout, "siblings.py", "exec")
    explained = aorist("explain", f"{universe}:universe", cwd=elsewhere)
    assert explained.returncode == 0, explained.stderr
    assert "dataset 'graphs' / asset 'first'" in explained.stdout
    # A relative path, from the directory above it, works the same.
    relative = aorist("generate", "project/lab.py", cwd=tmp_path)
    assert relative.stdout == generated.stdout, relative.stderr


def test_loading_restores_sys_path(tmp_path: Path) -> None:
    from aorist.cli import load_universe

    universe_file = write_sibling_universe(tmp_path, "cli_sibling_helpers_restored")
    before = list(sys.path)
    universe = load_universe(str(universe_file))
    assert universe.name == "siblings" and sys.path == before
    (tmp_path / "broken.py").write_text("raise RuntimeError('no')\n")
    from aorist import DeclarationError

    try:
        load_universe(str(tmp_path / "broken.py"))
    except DeclarationError:
        pass
    else:  # pragma: no cover - reported as a failure
        raise AssertionError("a file raising at import must be a DeclarationError")
    assert sys.path == before


# (file text, helper module text or None, what the message says after "FILE...: ")
BROKEN_FILES = {
    "syntax": (
        "from aorist import Universe\nuniverse = Universe(name='x'\n",
        None,
        ["cannot be loaded: SyntaxError at", "line 2", "fix: correct the syntax there"],
    ),
    "missing_module": (
        "import no_such_module_for_aorist\n",
        None,
        [
            "line 1: cannot be loaded: ModuleNotFoundError: No module named "
            "'no_such_module_for_aorist'",
            "fix: install the package that provides 'no_such_module_for_aorist'",
            "or put no_such_module_for_aorist.py next to",
        ],
    ),
    "missing_name": (
        "from lab_helpers import make_nothing\n",
        "def make_table():\n    pass\n",
        [
            "line 1: cannot be loaded: ImportError: cannot import name 'make_nothing'",
            "fix: check that the imported name exists in lab_helpers",
        ],
    ),
    "raises": (
        "import lab_helpers\n\nlab_helpers.boom()\n",
        "def boom():\n    raise RuntimeError('the helper failed')\n",
        [
            "line 3 (raised in ",
            "lab_helpers.py, line 2): cannot be loaded: RuntimeError: the helper failed",
            "(`python ",
            "shows the full traceback)",
        ],
    ),
    "exits": (
        "import sys\nsys.exit(3)\n",
        None,
        ["line 2: cannot be loaded: it called sys.exit(3)", 'if __name__ == "__main__":'],
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
@pytest.mark.parametrize("command", ["generate", "explain"])
def test_a_file_that_cannot_be_loaded_is_a_typed_error(
    tmp_path: Path, case: str, command: str
) -> None:
    text, helper, needles = BROKEN_FILES[case]
    universe = tmp_path / "lab.py"
    universe.write_text(text)
    if helper is not None:
        (tmp_path / "lab_helpers.py").write_text(helper)
    result = aorist(command, str(universe), cwd=tmp_path.parent)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr.startswith(f"aorist: DeclarationError: {universe}"), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def test_an_aorist_error_at_import_keeps_its_type_and_names_the_line(tmp_path: Path) -> None:
    universe = tmp_path / "lab.py"
    universe.write_text(
        "from aorist import DataSet, Universe\n\nbad = DataSet(name='has space')\n"
        "universe = Universe(name='x', datasets=[bad])\n"
    )
    result = aorist("generate", str(universe))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"aorist: DeclarationError: {universe}, line 3: "), (
        result.stderr
    )
    assert "has space" in result.stderr and "fix:" in result.stderr


# ----------------------------------------------------------------------- dataset new

CATALOG_INIT = '"""A stand-in scienz catalog."""\n'


def aorist_in(cwd: Path, *args: str, pythonpath: Path | None = None, prelude: str = ""):
    """Run the command line from ``cwd``, with ``pythonpath`` first on the module path and
    ``prelude`` run before it (to hide an installed package)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    code = f"{prelude}\nimport sys\nfrom aorist.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, env=env
    )


def files_under(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.py"))


def test_dataset_new_writes_into_the_catalog_scienz_is_imported_from(tmp_path: Path) -> None:
    source = tmp_path / "checkout" / "datasets"
    (source / "scienz").mkdir(parents=True)
    (source / "pyproject.toml").write_text('[project]\nname = "scienz"\n')
    (source / "scienz" / "__init__.py").write_text(CATALOG_INIT)
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    result = aorist_in(cwd, "dataset", "new", "rainfall", pythonpath=source)
    assert result.returncode == 0, result.stderr
    written = source / "scienz" / "rainfall.py"
    assert written.is_file() and f"wrote {written};" in result.stderr
    assert f"import it in {source / 'scienz' / '__init__.py'}" in result.stderr
    assert list(cwd.iterdir()) == []


def test_dataset_new_refuses_an_installed_copy_of_scienz(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    (site / "scienz").mkdir(parents=True)
    (site / "scienz" / "__init__.py").write_text(CATALOG_INIT)
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    result = aorist_in(cwd, "dataset", "new", "rainfall", pythonpath=site)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        f"aorist: DeclarationError: dataset new: scienz is installed at {site / 'scienz'}, "
        "not from a source tree"
    ), result.stderr
    assert "pip install -e ./datasets" in result.stderr and "--dir" in result.stderr
    assert files_under(tmp_path) == ["site-packages/scienz/__init__.py"]


HIDE_SCIENZ = "import sys\nsys.modules['scienz'] = None  # as if it were not installed"


def copy_of_aorist(under: Path) -> Path:
    import aorist

    shutil.copytree(
        Path(aorist.__file__).parent,
        under / "aorist",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return under


def test_dataset_new_without_scienz_uses_the_checkout_aorist_runs_from(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    python = copy_of_aorist(checkout / "python")
    (checkout / "datasets" / "scienz").mkdir(parents=True)
    (checkout / "datasets" / "scienz" / "__init__.py").write_text(CATALOG_INIT)
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    result = aorist_in(cwd, "dataset", "new", "rainfall", pythonpath=python, prelude=HIDE_SCIENZ)
    assert result.returncode == 0, result.stderr
    assert (checkout / "datasets" / "scienz" / "rainfall.py").is_file()
    assert list(cwd.iterdir()) == []


def test_dataset_new_outside_any_catalog_says_to_pass_dir(tmp_path: Path) -> None:
    installed = copy_of_aorist(tmp_path / "site-packages")
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    result = aorist_in(cwd, "dataset", "new", "rainfall", pythonpath=installed, prelude=HIDE_SCIENZ)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        "aorist: DeclarationError: dataset new: found no scienz catalog"
    ), result.stderr
    assert "fix: run it in a checkout" in result.stderr and "--dir" in result.stderr
    assert list(cwd.iterdir()) == [] and "rainfall.py" not in "".join(files_under(tmp_path))
    with_dir = aorist_in(
        cwd, "dataset", "new", "rainfall", "--dir", "catalog", pythonpath=installed,
        prelude=HIDE_SCIENZ,
    )  # fmt: skip
    assert with_dir.returncode == 0, with_dir.stderr
    assert (cwd / "catalog" / "rainfall.py").is_file()


def test_generate_airflow_library_and_schedule(tmp_path: Path) -> None:
    import runpy

    from aorist import dag_files

    out = tmp_path / "dags"
    result = aorist(
        "generate", str(CASES / "snap.py"), "--dialect", "airflow", "--library",
        "--schedule", "@daily", "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    universe = runpy.run_path(str(CASES / "snap.py"))["universe"]
    files = dag_files(universe, ["AllAssetsComputed"], "airflow", library=True, schedule="@daily")
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    for name, code in files.items():
        assert (out / name).read_text() == code
    refused = aorist("generate", str(CASES / "snap.py"), "--dialect", "airflow", "--library")
    assert refused.returncode == 2 and "--library: writes several files" in refused.stderr
    bad = aorist("generate", str(CASES / "snap.py"), "--schedule", "@daily", "-o", str(tmp_path))
    assert bad.returncode == 2 and "has no schedule; fix" in bad.stderr
