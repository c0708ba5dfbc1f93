"""The `dagster` dialect: a Dagster code location, `defs = dagster.Definitions(...)`.

One Dagster asset per asset of the universe, keyed `[dataset, asset]` in the group of
its dataset: it runs the asset's steps in plan order (download, load, publish, check,
clean up; or compute, publish, check), each skipped when it is up to date, as in every
dialect. An asset depends on the assets it is computed from. Each asset has a blocking
check, `contracts`: the contracts declared on its columns are checked before a table is
published, and a table that breaks one is not published; the check then fails, and the
assets computed from it do not run. The lake is a resource (`lake`, its `path`), so a
run's configuration moves it; a schedule, when declared, targets every asset.

The assets are made by one factory from a table (`LAKE_ASSETS`), the way Dagster's own
documentation builds many similar assets; the definitions are built once, when Dagster
loads the file. Runs use the in-process executor: the lake's DuckDB database has one
writer at a time, so assets in separate processes would only wait for each other.
"""

from __future__ import annotations

from aorist.dialects._assets import MAKE_ASSET, AssetDialect, AssetProgram, strs, unique
from aorist.dialects._base import Node, long_rows
from aorist.dialects.python import black_format, comment, quoted

FACTORY = '''
class Lake(dg.ConfigurableResource):
    """The lake the assets are made in: its directory (a relative path is read against
    the working directory of the process running the assets)."""

    path: str = LAKE_PATH


def lake_asset(
    dataset: str, name: str, deps: list[list[str]], retries: int, steps: list
) -> dg.AssetsDefinition:
    """The asset `dataset/name`: runs `steps` (function, row) in order on the lake;
    depends on the assets `deps`; retried `retries` times, waiting longer each time.{check_doc}
    """

    @dg.asset(
        key=[dataset, name],
        group_name=dataset,
        deps=[dg.AssetKey(dep) for dep in deps],{check_spec}
        retry_policy=(
            dg.RetryPolicy(
                max_retries=retries, delay=30, backoff=dg.Backoff.EXPONENTIAL
            )
            if retries
            else None
        ),
        description=f"{{dataset}}.{{name}}, made by the steps "
        + ", ".join(step.__name__.lstrip("_") for step, _ in steps),
    )
    def compute(lake: Lake):{body}

    return compute
'''

WITH_CHECK = {
    "check_doc": (
        "\n\n    Its check `contracts` (blocking) fails when the new rows break a contract"
        "\n    declared on the columns: nothing is published, the table keeps its previous"
        "\n    version, and the assets computed from it do not run."
    ),
    "check_spec": (
        "\n        check_specs=["
        "\n            dg.AssetCheckSpec("
        '\n                "contracts",'
        "\n                asset=[dataset, name],"
        "\n                blocking=True,"
        '\n                description="The rows keep the contracts declared on the'
        ' columns.",'
        "\n            )"
        "\n        ],"
    ),
    "body": (
        "\n        try:"
        "\n            states = make_asset(lake.path, steps)"
        "\n        except ContractViolation as violation:"
        "\n            yield dg.AssetCheckResult("
        '\n                check_name="contracts",'
        "\n                passed=False,"
        '\n                metadata={"violation": str(violation)},'
        "\n            )"
        "\n            # The same rows would break it again: no retry."
        "\n            raise dg.Failure(str(violation), allow_retries=False) from violation"
        "\n        yield dg.MaterializeResult("
        "\n            metadata=states,"
        '\n            check_results=[dg.AssetCheckResult(check_name="contracts", passed=True)],'
        "\n        )"
    ),
}

WITHOUT_CHECK = {
    "check_doc": "",
    "check_spec": "",
    "body": ("\n        return dg.MaterializeResult(metadata=make_asset(lake.path, steps))"),
}


class DagsterDialect(AssetDialect):
    name = "dagster"

    def render(self, module: Node) -> str:
        program = AssetProgram(module)
        name = module["name"]
        run = (
            f"A Dagster code location: `dagster dev -f {name}.py` serves it; `dagster asset"
            f" materialize -f {name}.py --select '*'` makes every asset once. The lake is"
            " the resource `lake` (its `path`); LAKE_PATH in the environment moves its"
            " default."
        )
        lines = program.header(run, ["import dagster as dg"])
        schedule = module.get("schedule")
        lines += program.code("When Dagster's scheduler makes every asset (UTC).")
        table_name = unique("LAKE_ASSETS", program.taken(lines, program.data))
        lines += ["", "", *MAKE_ASSET.strip("\n").splitlines()]
        has_contracts = any(d["name"] == "contracts" for d in module["definitions"])
        parts = WITH_CHECK if has_contracts else WITHOUT_CHECK
        lines += ["", "", *FACTORY.format(**parts).strip("\n").splitlines()]
        rows = {
            "node": "List",
            "items": [
                {
                    "node": "Tuple",
                    "items": [
                        {"node": "Str", "value": asset.dataset},
                        {"node": "Str", "value": asset.name},
                        {
                            "node": "List",
                            "items": [strs(dep.split(".", 1)) for dep in asset.deps],
                        },
                        {"node": "Int", "value": asset.retries},
                        program.steps_literal(asset.tasks),
                    ],
                }
                for asset in program.plan.assets
            ],
        }
        table = [
            *comment(
                "The universe's assets: (dataset, asset, the assets it is computed from,"
                " retries, its steps in order as (function, row of the step's table))."
            ),
            program.printer.table(table_name, rows),
        ]
        if long_rows(rows):
            program.data += ["", "", *table]
        else:
            lines += ["", "", *table]
        schedules = (
            [
                "        schedules=[",
                "            dg.ScheduleDefinition(",
                f"                name={quoted(name + '_schedule')},",
                "                cron_schedule=SCHEDULE,",
                "                target=dg.AssetSelection.all(),",
                '                execution_timezone="UTC",',
                "            )",
                "        ],",
            ]
            if schedule
            else []
        )
        lines += [
            "",
            "",
            "def definitions() -> dg.Definitions:",
            '    """Every asset of the universe, the lake resource, and the schedule."""',
            "    return dg.Definitions(",
            f"        assets=[lake_asset(*row) for row in {table_name}],",
            '        resources={"lake": Lake()},',
            "        executor=dg.in_process_executor,",
            *schedules,
            "    )",
        ]
        lines += program.data_section()
        lines += ["", "", "defs = definitions()", ""]
        return black_format("\n".join(lines), program.printer.tables)
