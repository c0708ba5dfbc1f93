"""The `prefect` dialect: a module with one Prefect `@flow`, named after the universe.

Each step that runs code is a `@task`, mapped over its parameter table (`.map`, one task
run per row), with the retries and retry delays of its constraint in the catalog. A
row waits for exactly the rows it needs (its `after` argument holds their futures), so
one table's failure stops only what is computed from it; Prefect does not start a task
whose upstream failed. The lake path is the flow's parameter.

The flow holds the lake, like the python program, for as long as it runs, and records
each step's version in the lake's state table: a rerun skips every step that is up to
date. Tasks run in Prefect's thread pool; those that write the lake's catalog take turns
(the runtime's `Run.task`), downloads run side by side (`Run.parallel_task`).
"""

from __future__ import annotations

import textwrap

from aorist.dialects._assets import AssetDialect, AssetProgram, Ref, unique
from aorist.dialects._base import DATA_ROWS, Node
from aorist.dialects.airflow import BACKOFF, PYTHON_RESERVED
from aorist.dialects.python import black_format, comment, quoted

RETRY_DELAY = 30  # seconds before the first retry; each next one waits BACKOFF times longer
MAX_RETRY_DELAY = 600
WORKERS = 4

WORTH_RETRYING = '''
def worth_retrying(task, task_run, state) -> bool:
    """Whether Prefect retries a failed task: not when its rows broke a contract (the
    same rows would break it again)."""
    return not isinstance(state.result(raise_on_failure=False), ContractViolation)
'''

PICK = '''
def pick(rows: list[list[list]], runs: dict[str, list]) -> list[list]:
    """The futures each row waits for: `rows` names them as [step, row] pairs."""
    return [[runs[step][row] for step, row in after] for after in rows]
'''


def retry_delays(retries: int) -> list[int]:
    delays, delay = [], float(RETRY_DELAY)
    for _ in range(retries):
        delays.append(int(min(delay, MAX_RETRY_DELAY)))
        delay *= BACKOFF
    return delays


class PrefectDialect(AssetDialect):
    name = "prefect"

    def render(self, module: Node) -> str:
        program = AssetProgram(module)
        name = module["name"]
        schedule = module.get("schedule")
        run = (
            f"A Prefect flow: `python {name}.py` runs it once (an ephemeral Prefect server"
            " starts when none is configured); import it and call"
            f" `{name}(lake_path=...)` to run it on another lake."
        )
        if schedule:
            run += f" `python {name}.py --serve` serves it on its schedule."
        lines = program.header(
            run,
            [
                "from prefect import flow, task, unmapped",
                "from prefect.cache_policies import NO_CACHE",
                "from prefect.futures import wait",
                "from prefect.task_runners import ThreadPoolTaskRunner",
            ],
        )
        lines += program.code("When `--serve` runs the flow (a cron expression, UTC).")
        taken = program.taken(lines, program.data)
        steps = program.plan.steps
        code = [s for s, step in enumerate(steps) if step["language"] is not None]
        tasks = {s: unique(steps[s]["name"], taken) for s in code}
        contracts = any(d["name"] == "contracts" for d in module["definitions"])
        if contracts:
            lines += ["", "", *WORTH_RETRYING.strip("\n").splitlines()]
        for s in code:
            lines += ["", "", *self.task(steps[s], tasks[s], contracts)]
        flow = unique(name if name not in PYTHON_RESERVED else f"{name}_flow", taken)
        runs = {s: unique(f"{steps[s]['name']}_runs", taken) for s in code}
        afters = {s: self.after(program, s, runs) for s in code}
        needs_pick = any(picked for _, picked in afters.values())
        body: list[str] = []
        for s in code:
            after, _ = afters[s]
            step = steps[s]
            body += [
                *([""] if body else []),
                *comment(f"{step['name']}: {step['doc']}", "        "),
                *(
                    [
                        f"        {runs[s]} = {tasks[s]}.map(",
                        "            unmapped(run),",
                        f"            range({step['task_count']}),",
                        *after,
                        "        )",
                    ]
                    if after
                    else [
                        f"        {runs[s]} = {tasks[s]}.map(unmapped(run),"
                        f" range({step['task_count']}))"
                    ]
                ),
            ]
            if needs_pick:
                body.append(f"        runs[{quoted(step['name'])}] = {runs[s]}")
        if needs_pick:
            lines += ["", "", *PICK.strip("\n").splitlines()]
        everything = ", ".join(f"*{runs[s]}" for s in code)
        lines += [
            "",
            "",
            f"@flow(name={quoted(name)}, log_prints=True, task_runner=ThreadPoolTaskRunner("
            f"max_workers={WORKERS}))",
            f"def {flow}(lake_path: str = LAKE_PATH) -> list:",
            *(
                "    " + line
                for line in textwrap.wrap(
                    f'"""Make {", ".join(module["constraints"])} hold for {name}, on the lake'
                    " at `lake_path` (a relative path is read against the working"
                    " directory).",
                    84,
                )
            ),
            "",
            "    Returns every task run's future: the flow fails when one of them failed.",
            '    """',
            "    with Run(lake_path, raising=True) as run:",
            *(["        runs: dict[str, list] = {}"] if needs_pick else []),
            *body,
            "",
            f"        everything = [{everything}]",
            "        # The lake is held until every task has finished.",
            "        wait(everything)",
            "    return everything",
        ]
        lines += program.data_section()
        main = [
            "",
            "",
            'if __name__ == "__main__":',
        ]
        if schedule:
            main += [
                '    if sys.argv[1:] == ["--serve"]:',
                f"        {flow}.serve(name={quoted(name)}, cron=SCHEDULE)",
                "    else:",
                f"        {flow}()",
            ]
        else:
            main.append(f"    {flow}()")
        lines += [*main, ""]
        return black_format("\n".join(lines), program.printer.tables)

    @staticmethod
    def task(step: Node, name: str, contracts: bool) -> list[str]:
        """The `@task` of a step: it runs row `row` of the step's table."""
        options = [f"name={quoted(step['name'])}"]
        if step["retries"]:
            options += [
                f"retries={step['retries']}",
                f"retry_delay_seconds={retry_delays(step['retries'])!r}",
                *(["retry_condition_fn=worth_retrying"] if contracts else []),
            ]
        # No timeout: Prefect cannot interrupt a task in a worker thread (it warns at
        # every run of one that has a timeout).
        options += [
            # Whether a step is up to date is the lake's state table's to say.
            "cache_policy=NO_CACHE",
            f"task_run_name={quoted(step['name'] + '[{row}]')}",
        ]
        doc = textwrap.wrap(
            f"Run row `row` of {step['name']} (see _{step['name']}), after the task runs"
            " `after` (Prefect waits for them).",
            84,
        )
        return [
            f"@task({', '.join(options)})",
            f"def {name}(run: Run, row: int, after: list | None = None) -> str:",
            '    """' + "\n    ".join(doc) + '"""',
            f"    return _{step['name']}(run, row)",
        ]

    @staticmethod
    def after(program: AssetProgram, s: int, runs: dict[int, str]) -> tuple[list[str], bool]:
        """The `.map` arguments making row i wait for the rows it needs: lines, and
        whether they use `pick` (a long, irregular table in the data section)."""
        rows = program.plan.after[s]
        count = len(rows)
        if not any(rows):
            return [], False
        steps = program.plan.steps
        # Row i waits for row i of some steps, each as long as this one.
        lanes = [u for u, _ in rows[0]]
        if all(
            [(u, i) for u in lanes] == refs and all(steps[u]["task_count"] == count for u in lanes)
            for i, refs in enumerate(rows)
        ):
            return [f"            after=list(zip({', '.join(runs[u] for u in lanes)})),"], False
        # Every row waits for the same rows.
        if all(refs == rows[0] for refs in rows):
            waited = ", ".join(expressions(rows[0], steps, runs))
            return [f"            wait_for=[{waited}],"], False
        if count <= DATA_ROWS:
            items = ", ".join(f"[{', '.join(expressions(refs, steps, runs))}]" for refs in rows)
            return [f"            after=[{items}],"], False
        table = unique(f"{steps[s]['name'].upper()}_AFTER", program.taken(program.data))
        literal = {
            "node": "List",
            "items": [
                {
                    "node": "List",
                    "items": [
                        {
                            "node": "List",
                            "items": [
                                {"node": "Str", "value": steps[u]["name"]},
                                {"node": "Int", "value": r},
                            ],
                        }
                        for u, r in refs
                    ],
                }
                for refs in rows
            ],
        }
        program.data += [
            "",
            "",
            *comment(f"The rows each row of {steps[s]['name']} waits for, as [step, row]."),
            program.printer.table(table, literal),
        ]
        return [f"            after=pick({table}, runs),"], True


def expressions(refs: list[Ref], steps: list[Node], runs: dict[int, str]) -> list[str]:
    """Each ref's future; all the futures of a step it waits for whole, as `*runs`."""
    out: list[str] = []
    covered: set[int] = set()
    for u, _ in refs:
        if u in covered:
            continue
        rows = [r for v, r in refs if v == u]
        if rows == list(range(steps[u]["task_count"])):
            out.append(f"*{runs[u]}")
            covered.add(u)
    for u, r in refs:
        if u not in covered:
            out.append(f"{runs[u]}[{r}]")
    return out
