"""The `aorist` command line: `generate` code for a universe, `explain` its constraint DAG."""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

from aorist import scaffold
from aorist._api import SPLITS, dag_files, explain
from aorist._concepts import Universe
from aorist.dialects import DIALECTS
from aorist.errors import AoristError, DeclarationError


def load_universe(spec: str) -> Universe:
    """Load `FILE.py[:VARIABLE]`; without a variable, the file's one Universe."""
    path, _, variable = spec.partition(":")
    if not Path(path).is_file():
        raise DeclarationError(f"{path}: no such file; fix: pass FILE.py[:VARIABLE]")
    namespace = runpy.run_path(path, run_name="__aorist__")
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
        default=str(scaffold.DEFAULT_DIRECTORY),
        help=f"the catalog package directory (default: {scaffold.DEFAULT_DIRECTORY})",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "dataset":
            written = scaffold.new_dataset(args.name, args.dir)
            print(
                f"wrote {written}; fill it in (docs/adding-a-dataset.md), then import it in "
                f"scienz/__init__.py (`from scienz.{args.name} import {args.name}`) and list "
                "it in DATASETS",
                file=sys.stderr,
            )
            return 0
        universe = load_universe(args.universe)
        constraints = args.constraint or ["AllAssetsComputed"]
        if args.command == "explain":
            sys.stdout.write(explain(universe, constraints, args.format))
            return 0
        preferences = args.preferences.split(",") if args.preferences else None
        if args.split and args.output is None:
            raise DeclarationError(
                f"--split {args.split}: writes several files; fix: pass --output DIR"
            )
        files = dag_files(
            universe,
            constraints,
            args.dialect,
            split=args.split,
            preferences=preferences,
            name=args.name,
        )
        if args.output is None:
            sys.stdout.write(next(iter(files.values())))
            return 0
        output = Path(args.output)
        if args.split or output.is_dir() or args.output.endswith(("/", "\\")):
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
