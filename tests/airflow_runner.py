"""Load a generated DAG file with Airflow itself, then optionally run it with dag.test().

    python airflow_runner.py DAG_FILE DAG_ID inspect|run|isolated

`isolated` runs like `run`, but each task starts in a fresh, empty working directory of
its own (as on workers that share no disk); the report lists them under "workdirs".

The report's "airflow" holds Airflow's own graph (task ids, upstream ids, which tasks
are mapped). After a run, "tasks" is the graph the DAG implies between its task
instances, named as the grid names them (a mapped instance by its rendered map index):
inside one mapped task group, index i waits for index i; across groups and tasks, every
index upstream comes before any downstream. Tests compare it with the constraint DAG.

Runs in its own process (Airflow configures logging and the ORM globally); the caller
sets AIRFLOW_HOME, AIRFLOW__CORE__DAGS_FOLDER and AIRFLOW__CORE__LOAD_EXAMPLES=False.
Prints one JSON document on the last line of stdout.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

from airflow.dag_processing.dagbag import DagBag


def main() -> int:
    path, dag_id, mode = sys.argv[1:4]
    bag = DagBag(dag_folder=path)
    report: dict[str, object] = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}}
    dag = bag.dags.get(dag_id)
    if dag is None:
        print(json.dumps(report))
        return 1
    report["airflow"] = {
        t.task_id: {
            "upstream": sorted(t.upstream_task_ids),
            "mapped": mapped_group(t) is not None or hasattr(t, "expand_input"),
        }
        for t in dag.tasks
    }
    report["retries"] = {t.task_id: t.retries for t in dag.tasks}
    report["outlets"] = {
        t.task_id: [getattr(o, "name", str(o)) for o in t.outlets] for t in dag.tasks if t.outlets
    }
    report["schedule"] = str(dag.schedule) if dag.schedule is not None else None
    # The assets a run waits for (a DAG scheduled on the tables other DAGs announce).
    condition = getattr(dag.timetable, "asset_condition", None)
    report["reads"] = sorted(asset.uri for asset in getattr(condition, "objects", ()))
    report["reads_any"] = type(condition).__name__ == "AssetAny"
    report["catchup"] = dag.catchup
    report["tags"] = sorted(dag.tags)
    report["doc_md"] = dag.doc_md
    report["params"] = dict(dag.params.dump())
    if mode == "isolated":
        workdirs: dict[str, str] = {}
        classes = {getattr(t, "operator_class", type(t)) for t in dag.tasks}
        for cls in classes:
            if not isinstance(cls, type):  # a mapped classic operator's class, serialized
                continue
            execute = cls.execute

            def in_fresh_dir(self, context, _execute=execute):
                ti = context["ti"]
                key = f"{ti.task_id}[{ti.map_index}]"
                workdirs[key] = tempfile.mkdtemp(prefix=f"worker-{key}-")
                os.chdir(workdirs[key])
                return _execute(self, context)

            cls.execute = in_fresh_dir
        report["workdirs"] = workdirs
    if mode in ("run", "isolated"):
        # A run's parameters (like a trigger's "conf"), as JSON in AORIST_RUN_CONF.
        conf = json.loads(os.environ.get("AORIST_RUN_CONF", "null"))
        run = dag.test(run_conf=conf)
        report["state"] = str(run.state)
        instances = run.get_task_instances()
        # A step found up to date ends as a skipped task (and does not stop the rest).
        report["failed"] = sorted(
            f"{ti.task_id}[{ti.map_index}]"
            for ti in instances
            if str(ti.state) not in ("success", "skipped")
        )
        report["skipped"] = sorted(
            f"{ti.task_id}[{ti.map_index}]" for ti in instances if str(ti.state) == "skipped"
        )
        report["tasks"] = implied_graph(dag, instances)
        report["asset_events"] = asset_events(dag_id, run.run_id)
    print(json.dumps(report))
    return 0


def asset_events(dag_id: str, run_id: str) -> list[list[str]]:
    """[uri, extra's version] of each asset event the run emitted, sorted."""
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = (
            session.query(AssetEvent)
            .filter(AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run_id)
            .all()
        )
        return sorted([event.uri, (event.extra or {}).get("version")] for event in events)


def mapped_group(task):
    """The mapped task group `task` is in, if any."""
    group = task.task_group
    while group is not None:
        if type(group).__name__ == "MappedTaskGroup":
            return group
        group = group.parent_group
    return None


def implied_graph(dag, instances) -> dict[str, list[str]]:
    """{instance name: names of the instances it waits for}, as Airflow schedules them."""
    names: dict[str, dict[int, str]] = {}
    for ti in instances:
        name = ti.rendered_map_index if ti.map_index >= 0 else ti.task_id.rpartition(".")[2]
        names.setdefault(ti.task_id, {})[ti.map_index] = name
    graph: dict[str, set[str]] = {n: set() for per in names.values() for n in per.values()}
    for task in dag.tasks:
        group = mapped_group(task)
        for upstream_id in task.upstream_task_ids:
            same = group is not None and mapped_group(dag.get_task(upstream_id)) is group
            for index, name in names.get(task.task_id, {}).items():
                for other, upstream_name in names.get(upstream_id, {}).items():
                    if not same or other == index:
                        graph[name].add(upstream_name)
    return {name: sorted(ups) for name, ups in sorted(graph.items())}


if __name__ == "__main__":
    sys.exit(main())
