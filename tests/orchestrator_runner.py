"""Run a generated Dagster, Prefect or Hamilton module with its own tool, in a fresh process.

    python orchestrator_runner.py MODE MODULE [LAKE_PATH]

MODE is `dagster` (`dagster.materialize()` in process), `prefect` (the flow, on an
ephemeral server), `hamilton` (the driver) or `load-*` (only load what the tool loads:
the definitions, the flow, the driver's graph). The module `MODULE.py` is in the working
directory. The last line printed is a JSON report: what the tool says ran, failed,
was skipped or was checked.
"""

from __future__ import annotations

import importlib
import json
import sys
import time


def dagster(module, lake_path: str | None) -> dict:
    import dagster as dg

    resources = {"lake": module.Lake(path=lake_path)} if lake_path else {"lake": module.Lake()}
    result = dg.materialize(list(module.defs.assets), resources=resources, raise_on_error=False)
    materialized = sorted(
        "/".join(event.asset_key.path) for event in result.get_asset_materialization_events()
    )
    checks = {}
    for event in result.get_asset_check_evaluations():
        key = "/".join(event.asset_key.path)
        checks[key] = {
            "passed": event.passed,
            "metadata": {k: str(v.value) for k, v in event.metadata.items()},
        }
    failed = sorted(
        event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"
    )
    skipped = sorted(
        event.step_key for event in result.all_events if event.event_type_value == "STEP_SKIPPED"
    )
    return {
        "success": result.success,
        "materialized": materialized,
        "checks": checks,
        "failed": failed,
        "skipped": skipped,
    }


def prefect(module, lake_path: str | None) -> dict:
    flow = next(
        value
        for value in vars(module).values()
        if type(value).__name__ == "Flow" and getattr(value, "__module__", "") != "prefect"
    )
    kwargs = {"lake_path": lake_path} if lake_path else {}
    state = flow(return_state=True, **kwargs)
    # The flow returns its task runs' futures; Prefect hands back their final states.
    returned = state.result(raise_on_failure=False)
    states: dict[str, int] = {}
    for item in returned if isinstance(returned, list) else []:
        kind = getattr(item, "type", None) or item.state.type
        states[kind.value] = states.get(kind.value, 0) + 1
    return {"success": state.is_completed(), "flow_state": state.type.value, "tasks": states}


def hamilton(module, lake_path: str | None) -> dict:
    from hamilton import driver

    dataflow = driver.Builder().with_modules(module).build()
    assets = [v.name for v in dataflow.list_available_variables() if not v.is_external_input]
    try:
        results = dataflow.execute(assets, inputs={"lake_path": lake_path or module.LAKE_PATH})
    except Exception as error:  # the driver stops at the first failing node
        return {"success": False, "error": f"{type(error).__name__}: {error}"}
    return {"success": True, "results": {k: results[k] for k in sorted(results)}}


def load(kind: str, module) -> dict:
    if kind == "dagster":
        graph = module.defs.resolve_asset_graph()
        keys = list(graph.get_all_asset_keys())
        return {"nodes": len(keys), "checks": len(list(graph.asset_check_keys))}
    if kind == "prefect":
        flows = [v for v in vars(module).values() if type(v).__name__ == "Flow"]
        tasks = [v for v in vars(module).values() if type(v).__name__ == "Task"]
        return {"nodes": len(tasks), "flows": len(flows)}
    from hamilton import driver

    dataflow = driver.Builder().with_modules(module).build()
    variables = [v for v in dataflow.list_available_variables() if not v.is_external_input]
    return {"nodes": len(variables)}


def main() -> None:
    mode, name = sys.argv[1], sys.argv[2]
    lake_path = sys.argv[3] if len(sys.argv) > 3 else None
    sys.path.insert(0, ".")
    start = time.perf_counter()
    module = importlib.import_module(name)
    if mode.startswith("load-"):
        report = load(mode[len("load-") :], module)
    else:
        report = {"dagster": dagster, "prefect": prefect, "hamilton": hamilton}[mode](
            module, lake_path
        )
    report["seconds"] = round(time.perf_counter() - start, 3)
    print("\n" + json.dumps(report, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
