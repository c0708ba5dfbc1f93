"""Load a generated DAG file with Airflow itself, then optionally run it with dag.test().

    python airflow_runner.py DAGS_FOLDER DAG_ID inspect|run|isolated

`isolated` runs like `run`, but each task starts in a fresh, empty working directory of
its own (as on workers that share no disk); the report lists them under "workdirs".

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
    folder, dag_id, mode = sys.argv[1:4]
    bag = DagBag(dag_folder=folder)
    report: dict[str, object] = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}}
    dag = bag.dags.get(dag_id)
    if dag is None:
        print(json.dumps(report))
        return 1
    report["tasks"] = {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}
    report["retries"] = {t.task_id: t.retries for t in dag.tasks}
    report["outlets"] = {
        t.task_id: [getattr(o, "name", str(o)) for o in t.outlets] for t in dag.tasks if t.outlets
    }
    report["schedule"] = str(dag.schedule) if dag.schedule is not None else None
    report["catchup"] = dag.catchup
    report["tags"] = sorted(dag.tags)
    report["doc_md"] = dag.doc_md
    if mode == "isolated":
        workdirs: dict[str, str] = {}
        for task in dag.tasks:
            execute = task.execute

            def in_fresh_dir(context, _execute=execute, _task_id=task.task_id):
                workdirs[_task_id] = tempfile.mkdtemp(prefix=f"worker-{_task_id}-")
                os.chdir(workdirs[_task_id])
                return _execute(context)

            task.execute = in_fresh_dir
        report["workdirs"] = workdirs
    if mode in ("run", "isolated"):
        run = dag.test()
        report["state"] = str(run.state)
        report["failed"] = sorted(
            ti.task_id for ti in run.get_task_instances() if str(ti.state) != "success"
        )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
