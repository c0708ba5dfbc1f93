"""Run some steps of a generated Python program, the way an orchestrator's worker would.

    python lake_steps_runner.py PROGRAM.py ASSET [fused]

Loads the program without running it, records the steps `main()` would run (a stand-in
for the program's `Run`), and runs those of ASSET from `temporary_table_created` on
(with `fused`: from `source_loaded` on): the steps that read or write the lake's DuckDB
database. Exits non-zero on the first
failure, printing its error. Several of these run at once in the concurrency test.
"""

from __future__ import annotations

import sys
import traceback

LAKE_STEPS = (
    "temporary_table_created",
    "converted_to_target_encoding",
    "table_published",
    "temporary_table_dropped",
    "asset_computed",
)
FUSED_STEPS = ("source_loaded", "asset_computed")


class Recorder:
    steps: list[tuple] = []

    def __init__(self, lake_path: str, arguments: list[str] | None = None) -> None:
        self.lake_path = lake_path

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def step(self, task: str, upstream: list[str], function=None, /, *args, **kwargs) -> None:
        Recorder.steps.append((task, function, args, kwargs))

    background = step


def main() -> int:
    program, asset = sys.argv[1:3]
    chosen = FUSED_STEPS if sys.argv[3:] == ["fused"] else LAKE_STEPS
    namespace: dict[str, object] = {"__name__": "generated_program"}
    with open(program, encoding="utf-8") as handle:
        exec(compile(handle.read(), program, "exec"), namespace)  # noqa: S102 - our own output
    namespace["Run"] = Recorder
    namespace["main"]()  # type: ignore[operator]
    wanted = [f"{asset}_{step}" for step in chosen]
    steps = {task: (function, args, kwargs) for task, function, args, kwargs in Recorder.steps}
    missing = [task for task in wanted if task not in steps]
    if missing:
        print(f"no such steps: {missing}", flush=True)
        return 2
    for task in wanted:
        function, args, kwargs = steps[task]
        try:
            function(*args, **kwargs)
        except Exception:
            print(f"FAILED {task}\n{traceback.format_exc()}", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
