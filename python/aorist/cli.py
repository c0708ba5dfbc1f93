"""The `aorist` command line: `generate` code for a universe, `explain` its constraint DAG,
say its `status` (which steps are fresh, stale or missing)."""

from __future__ import annotations

import argparse
import os
import runpy
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from aorist import scaffold
from aorist._api import SPLITS, dag_files, explain
from aorist._concepts import Universe
from aorist._dummy import dummy_universe
from aorist.dialects import DIALECTS
from aorist.errors import AoristError, DeclarationError


def load_universe(spec: str) -> Universe:
    """Load `FILE.py[:VARIABLE]`; without a variable, the file's one Universe.

    The file runs as a script named ``__aorist__`` with its own directory first on
    ``sys.path``, so it can import the modules next to it; ``sys.path`` is restored
    afterwards. Anything that stops the file from loading is a ``DeclarationError``
    naming the file, the cause and the fix.
    """
    path, _, variable = spec.partition(":")
    if not Path(path).is_file():
        raise DeclarationError(f"{path}: no such file; fix: pass FILE.py[:VARIABLE]")
    namespace = _run_universe_file(path)
    if variable:
        if variable not in namespace:
            raise DeclarationError(
                f"{path}: defines no variable {variable!r}; fix: name the variable that holds "
                "the Universe"
            )
        universe = namespace[variable]
    else:
        found = {k: v for k, v in namespace.items() if isinstance(v, Universe)}
        if len(found) != 1:
            names = ", ".join(sorted(found)) or "none"
            raise DeclarationError(
                f"{path}: expected exactly one Universe, found {names}; fix: pass {path}:VARIABLE"
            )
        universe = next(iter(found.values()))
    if not isinstance(universe, Universe):
        raise DeclarationError(
            f"{spec}: is a {type(universe).__name__}, not a Universe; fix: point at a Universe"
        )
    return universe


def _run_universe_file(path: str) -> dict[str, Any]:
    directory = str(Path(path).resolve().parent)
    saved_path = list(sys.path)
    sys.path.insert(0, directory)
    try:
        return runpy.run_path(path, run_name="__aorist__")
    except AoristError as error:
        # Already typed, with the concept path, cause and fix: say which line declared it.
        where = _where(path, error)
        try:
            raised = type(error)(f"{where}: {error}")
        except TypeError:  # pragma: no cover - every AoristError takes one message
            raised = DeclarationError(f"{where}: {error}")
        raise raised from error
    except SyntaxError as error:
        where = f"{error.filename or path}, line {error.lineno}" if error.lineno else path
        raise DeclarationError(
            f"{path}: cannot be loaded: SyntaxError at {where}: {error.msg}; "
            "fix: correct the syntax there"
        ) from error
    except ImportError as error:
        raise DeclarationError(
            f"{_where(path, error)}: cannot be loaded: {type(error).__name__}: {error}; "
            f"fix: {_import_fix(path, error)}"
        ) from error
    except SystemExit as error:
        raise DeclarationError(
            f"{_where(path, error)}: cannot be loaded: it called sys.exit({error.code!r}); "
            'fix: put script code under `if __name__ == "__main__":` (aorist loads the file '
            "as a module named __aorist__)"
        ) from error
    except Exception as error:
        raise DeclarationError(
            f"{_where(path, error)}: cannot be loaded: {type(error).__name__}: {error}; "
            f"fix: correct the code there (`python {path}` shows the full traceback)"
        ) from error
    finally:
        sys.path[:] = saved_path


def _where(path: str, error: BaseException) -> str:
    """`FILE, line N` of the universe file's line that led to ``error``, and the
    innermost line of the user's code when that is elsewhere (a module next to it)."""
    frames = traceback.extract_tb(error.__traceback__)
    target = Path(path).resolve()
    directory = target.parent
    own = [f for f in frames if _resolved(f.filename) == target]
    user = [f for f in frames if _resolved(f.filename).parent == directory]
    where = f"{path}, line {own[-1].lineno}" if own else path
    if user and user[-1] is not (own[-1] if own else None):
        where += f" (raised in {user[-1].filename}, line {user[-1].lineno})"
    return where


def _resolved(filename: str) -> Path:
    try:
        return Path(filename).resolve()
    except (OSError, ValueError):  # pragma: no cover - frames of odd origin
        return Path(filename)


def _import_fix(path: str, error: ImportError) -> str:
    name = error.name or ""
    top = name.partition(".")[0]
    if isinstance(error, ModuleNotFoundError) and top:
        return (
            f"install the package that provides {top!r} into this Python ({sys.executable}), "
            f"or put {top}.py next to {path}"
        )
    return f"check that the imported name exists in {name or 'that module'}"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="aorist",
        description="Generate legible code that makes constraints on a data universe hold.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser(
        "generate",
        help="write the program for a universe",
        description="Write the program that makes the constraints hold for a universe.",
    )
    generate.add_argument("universe", metavar="FILE.py[:VARIABLE]", help="where the Universe is")
    generate.add_argument(
        "--constraint",
        "-c",
        action="append",
        help="a constraint that must hold (repeatable; default AllAssetsComputed)",
    )
    generate.add_argument(
        "--dialect", "-d", default="python", help=f"one of: {', '.join(sorted(DIALECTS))}"
    )
    generate.add_argument(
        "--preferences",
        "-p",
        help="recipe languages in order, comma-separated (e.g. python,sql,bash)",
    )
    generate.add_argument("--name", help="the program's name (default: the universe's name)")
    generate.add_argument(
        "--split",
        choices=SPLITS,
        help="write one program per dataset, named <name>_<dataset> (needs --output DIR)",
    )
    generate.add_argument(
        "--library",
        action="store_true",
        help="airflow: write the recipe code once, as <name>_recipes.py next to the DAG "
        "file(s), imported by the tasks (needs --output DIR)",
    )
    generate.add_argument(
        "--schedule",
        help="airflow, dagster, prefect: a cron expression or preset (e.g. @daily) the "
        "program runs on",
    )
    generate.add_argument(
        "--no-fuse",
        action="store_true",
        help="bind one recipe per constraint, even where one recipe could make several "
        "true at less cost (the same tables, more steps and temporary files)",
    )
    generate.add_argument(
        "--dummy",
        type=int,
        metavar="N",
        help="replace each source with N rows of dummy data satisfying its contracts, "
        "written in the program: it runs without a network",
    )
    generate.add_argument(
        "--seed", type=int, default=0, help="--dummy: the seed of the dummy rows (default 0)"
    )
    generate.add_argument(
        "--output",
        "-o",
        help="file to write, or a directory to write <name><suffix> into (default: stdout)",
    )

    explain_cmd = commands.add_parser(
        "explain",
        help="print the constraint DAG",
        description="Print the DAG of constraint instances a request expands to.",
    )
    explain_cmd.add_argument("universe", metavar="FILE.py[:VARIABLE]", help="where the Universe is")
    explain_cmd.add_argument(
        "--constraint", "-c", action="append", help="a constraint (default AllAssetsComputed)"
    )
    explain_cmd.add_argument(
        "--format", "-f", choices=["text", "dot"], default="text", help="text or Graphviz DOT"
    )
    explain_cmd.add_argument(
        "--assets",
        action="store_true",
        help="print the asset lineage (sources -> derived -> models -> predictions) instead",
    )

    status_cmd = commands.add_parser(
        "status",
        help="say which steps are fresh, stale (and why) or missing",
        description="Print each step of the universe's plan as fresh, stale (<why>) or "
        "missing, changing nothing; exit 0 only when every step is fresh. Run it where the "
        "program runs (its temporary files are relative to that directory). It runs the "
        "python program with --dry-run, which asks each source whether it changed.",
    )
    status_cmd.add_argument("universe", metavar="FILE.py[:VARIABLE]", help="where the Universe is")
    status_cmd.add_argument(
        "--constraint", "-c", action="append", help="a constraint (default AllAssetsComputed)"
    )
    status_cmd.add_argument(
        "--lake", help="the lake's directory (default: the declared path, or LAKE_PATH)"
    )
    status_cmd.add_argument(
        "--no-fuse", action="store_true", help="as the program was generated with --no-fuse"
    )

    dataset_cmd = commands.add_parser(
        "dataset",
        help="work on the scienz dataset catalog",
        description="Work on the scienz dataset catalog (see docs/adding-a-dataset.md).",
    )
    dataset_commands = dataset_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    new_cmd = dataset_commands.add_parser(
        "new",
        help="write the skeleton of a new catalog module",
        description="Write DIR/NAME.py: a doc header and a DataSet with one placeholder asset "
        "to fill in. Refuses to overwrite an existing file.",
    )
    new_cmd.add_argument("name", metavar="NAME", help="the dataset's name (a Python identifier)")
    new_cmd.add_argument(
        "--dir",
        help="the catalog package directory (default: where `import scienz` finds the "
        "catalog when it is a source tree, else datasets/scienz of the checkout aorist "
        "runs from)",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "dataset":
            written = scaffold.new_dataset(args.name, args.dir)
            print(
                f"wrote {written}; fill it in (docs/adding-a-dataset.md), then import it in "
                f"{written.parent / '__init__.py'} (`from scienz.{args.name} import "
                f"{args.name}`) and list it in DATASETS",
                file=sys.stderr,
            )
            return 0
        universe = load_universe(args.universe)
        constraints = args.constraint or ["AllAssetsComputed"]
        if args.command == "explain":
            view = "assets" if args.assets else "constraints"
            sys.stdout.write(explain(universe, constraints, args.format, view))
            return 0
        if args.command == "status":
            return status(universe, constraints, args.lake, fuse=not args.no_fuse)
        preferences = args.preferences.split(",") if args.preferences else None
        if args.split and args.output is None:
            raise DeclarationError(
                f"--split {args.split}: writes several files; fix: pass --output DIR"
            )
        if args.library and args.output is None:
            raise DeclarationError("--library: writes several files; fix: pass --output DIR")
        if args.dummy is not None:
            universe = dummy_universe(universe, args.dummy, args.seed)
        files = dag_files(
            universe,
            constraints,
            args.dialect,
            split=args.split,
            preferences=preferences,
            name=args.name,
            schedule=args.schedule,
            library=args.library,
            fuse=not args.no_fuse,
        )
        if args.output is None:
            sys.stdout.write(next(iter(files.values())))
            return 0
        output = Path(args.output)
        if len(files) > 1 or output.is_dir() or args.output.endswith(("/", "\\")):
            output.mkdir(parents=True, exist_ok=True)
            targets = {output / file: code for file, code in files.items()}
        else:
            targets = {output: next(iter(files.values()))}
        for target, code in targets.items():
            target.write_text(code)
            print(f"wrote {target}", file=sys.stderr)
        return 0
    except AoristError as error:
        print(f"aorist: {type(error).__name__}: {error}", file=sys.stderr)
        return 2


def status(universe: Universe, constraints: list[str], lake: str | None, fuse: bool) -> int:
    """Run the universe's python program with --dry-run here; its exit status."""
    files = dag_files(universe, constraints, "python", fuse=fuse)
    env = dict(os.environ)
    if lake is not None:
        env["LAKE_PATH"] = lake
    with tempfile.TemporaryDirectory(prefix="aorist-status-") as folder:
        program = Path(folder) / next(iter(files))
        program.write_text(next(iter(files.values())))
        done = subprocess.run([sys.executable, str(program), "--dry-run"], env=env, check=False)
    return 0 if done.returncode == 0 else 1
