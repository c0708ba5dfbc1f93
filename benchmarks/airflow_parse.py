"""How big a generated Airflow DAG is, and how long Airflow takes to parse it.

    python benchmarks/airflow_parse.py                 # 300 and 3,000 assets
    python benchmarks/airflow_parse.py --assets 300

For each universe size (SNAP-like edge lists spread over three datasets) the DAG is
generated twice: as aorist writes it now (one mapped task per step, one mapped task
group per dataset) and as it was written before (one task per constraint instance,
`for` loops over the parameter tables): the file of that renderer is read from git
history (commit PER_TASK) and renders the same plan. Each file is parsed by Airflow's
DagBag in a fresh interpreter, three times; the best time counts. Prints one table; not
a test.

A file Airflow gives up on (DagBag's import timeout, 30 s by default) counts as an
error, with no tasks: that is what a deployment would see.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

# The last commit whose airflow dialect wrote one task per constraint instance.
PER_TASK = "b604665"

PARSE = """
import json, sys, time
started = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
imported = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
parsed = time.perf_counter()
tasks = sum(len(dag.task_dict) for dag in bag.dags.values())
print(json.dumps({"errors": len(bag.import_errors), "tasks": tasks,
                  "parse": parsed - imported}))
"""


def per_task_renderer() -> object:
    """The per-task renderer of commit PER_TASK, loaded beside today's modules."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{PER_TASK}:python/aorist/dialects/airflow.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("aorist.dialects.airflow_per_task")
    exec(compile(source, "airflow_per_task.py", "exec"), module.__dict__)  # noqa: S102
    printer = module.PythonPrinter

    class PerTaskPrinter(printer):  # type: ignore[misc, valid-type]
        # That DAG had no `import os`: its lake path stays the declared literal.
        def setting(self, setting: dict, from_environment: bool = False) -> list[str]:
            return super().setting(setting, from_environment=False)

    module.PythonPrinter = PerTaskPrinter
    return module.AirflowDialect()


def parse(path: Path, env: dict[str, str]) -> dict:
    best: dict = {}
    for _ in range(3):
        result = subprocess.run(
            [sys.executable, "-c", PARSE, str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        if not best or figures["parse"] < best["parse"]:
            best = figures
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, action="append")
    args = parser.parse_args()
    sizes = args.assets or [300, 3000]

    from test_layout import graphs

    from aorist import stage
    from aorist.dialects import DIALECTS

    from conftest import airflow_env

    old = per_task_renderer()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        env = airflow_env(home, Path(scratch))
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True,
            capture_output=True,
        )  # fmt: skip
        for assets in sizes:
            universe = graphs("http://127.0.0.1:9", assets)
            module = json.loads(stage(universe, ["AllAssetsComputed"], "ast", "airflow"))
            for layout, renderer in (("mapped (now)", DIALECTS["airflow"]), ("per task", old)):
                started = time.perf_counter()
                code = renderer.render(json.loads(json.dumps(module)))
                rendered = time.perf_counter() - started
                folder = Path(scratch) / f"{layout.split()[0]}_{assets}"
                folder.mkdir()
                path = folder / "graphs.py"
                path.write_text(code)
                figures = parse(path, env)
                rows.append(
                    (assets, layout, len(code.splitlines()), figures["tasks"], rendered,
                     figures["parse"], figures["errors"])
                )  # fmt: skip
    print(f"{'assets':>7}  {'layout':<13}{'lines':>8}{'tasks':>8}{'render s':>10}"
          f"{'parse s':>9}{'errors':>8}")  # fmt: skip
    for assets, layout, lines, tasks, rendered, parsed, errors in rows:
        print(f"{assets:>7}  {layout:<13}{lines:>8}{tasks:>8}{rendered:>10.2f}{parsed:>9.2f}"
              f"{errors:>8}")  # fmt: skip


if __name__ == "__main__":
    main()
