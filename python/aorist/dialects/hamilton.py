"""The `hamilton` dialect: a module of functions, one per asset, that Hamilton executes.

Hamilton reads a module's public functions as a dataflow: a function is a node named
after it, its parameters are the nodes it needs. Here each asset of the universe is a
function whose parameters are the assets it is computed from, and the lake's path (an
input): `driver.Builder().with_modules(module).build().execute([...],
inputs={"lake_path": ...})` makes the requested assets and what they need, in order.
A derived table declared as a Hamilton-style function (`derived_tables(module, ...)`)
thus comes back as a Hamilton node again, now a table in the lake.

Each asset function runs the asset's steps through the runtime's `Run` (a fresh step
is skipped, what a step made is recorded in the lake's state table) and returns the
asset's name in the lake (`dataset.asset`). The recipe code the module also holds is
excluded from the dataflow (`hamilton_exclude`); the step functions are private.
"""

from __future__ import annotations

import textwrap

from aorist.dialects._assets import MAKE_ASSET, Asset, AssetDialect, AssetProgram, unique
from aorist.dialects._base import Node
from aorist.dialects.airflow import PYTHON_RESERVED
from aorist.dialects.python import (
    PLACEHOLDER,
    WIDTH,
    black_chunk,
    black_format,
    comment,
    quoted,
)


class HamiltonDialect(AssetDialect):
    name = "hamilton"

    def render(self, module: Node) -> str:
        program = AssetProgram(module)
        name = module["name"]
        run = (
            f"A Hamilton module: `driver.Builder().with_modules({name}).build()` executes"
            ' it, with the input `lake_path`; `execute(["<asset>"], inputs={"lake_path":'
            ' "lake"})` makes that asset and the assets it is computed from. `python'
            f" {name}.py` makes every asset on LAKE_PATH."
        )
        lines = program.header(
            run,
            [
                "from hamilton import driver",
                "from hamilton.function_modifiers import hamilton_exclude",
            ],
        )
        lines += program.code("")
        lines += ["", "", *MAKE_ASSET.strip("\n").splitlines()]
        excluded = [*program.helper_functions(), "make_asset"]
        lines += [
            "",
            "",
            *comment(
                "Hamilton makes a node of every public function of this module: the"
                " recipe code above is not part of the dataflow."
            ),
            f"for _function in [{', '.join(excluded)}]:",
            "    hamilton_exclude(_function)",
        ]
        taken = program.taken(lines, program.data) | {"lake_path", "driver"}
        assets = program.plan.assets
        short = [a.name for a in assets]
        functions: dict[str, str] = {}
        for asset in assets:
            wanted = asset.name if short.count(asset.name) == 1 else f"{asset.dataset}_{asset.name}"
            if wanted in taken or wanted in PYTHON_RESERVED:
                wanted = f"{asset.dataset}_{asset.name}"
            functions[asset.qualified] = unique(wanted, taken)
        # The asset functions, laid out as black lays them out (`function`), stand in
        # black's input as one placeholder: at 10,000 assets, black would take seconds.
        block: list[str] = []
        for asset in assets:
            block += [*(["", ""] if block else []), *self.function(program, asset, functions)]
        key = PLACEHOLDER.format(len(program.printer.tables))
        program.printer.tables[key] = lambda indent, prefix: block
        lines += ["", "", f"ASSET_FUNCTIONS = {key}", "", ""]
        lines += program.data_section()
        lines += [
            "",
            "",
            'if __name__ == "__main__":',
            "    dataflow = driver.Builder().with_modules(sys.modules[__name__]).build()",
            "    assets = [",
            "        variable.name",
            "        for variable in dataflow.list_available_variables()",
            "        if not variable.is_external_input",
            "    ]",
            '    dataflow.execute(assets, inputs={"lake_path": LAKE_PATH})',
            "",
        ]
        return black_format("\n".join(lines), program.printer.tables)

    @staticmethod
    def function(program: AssetProgram, asset: Asset, functions: dict[str, str]) -> list[str]:
        """The asset's function, as black lays it out (the fixed-point tests check it):
        the steps are a literal laid out as black lays literals out."""
        name = functions[asset.qualified]
        params = [*(f"{functions[dep]}: str" for dep in asset.deps), "lake_path: str"]
        sources = ", ".join(functions[dep] for dep in asset.deps)
        made = f", computed from {sources}" if sources else ""
        head = f"def {name}({', '.join(params)}) -> str:"
        doc = textwrap.wrap(
            f"The asset {asset.qualified}{made}: runs its steps on the lake at `lake_path`;"
            " returns its name in the lake.",
            78,
        )
        steps = program.printer.literal_lines(
            program.steps_literal(asset.tasks), "    ", "steps = "
        )
        lines = [
            head,
            '    """' + "\n    ".join(doc) + '"""',
            *steps,
            "    make_asset(lake_path, steps)",
            f"    return {quoted(asset.qualified)}",
        ]
        if all(len(line) <= WIDTH for line in lines):
            return lines
        # A long signature or name: black's own layout (rare, so its cost is too).
        return black_chunk("\n".join(lines) + "\n").rstrip("\n").splitlines()
