"""Session fixture `airflow_scheduler`: a real Airflow deployment on 127.0.0.1.

Three processes run from a temporary AIRFLOW_HOME: `airflow scheduler` (LocalExecutor,
parallelism 4), `airflow dag-processor` (short refresh intervals) and `airflow api-server`
(a free port; the execution API the task processes report to). Their metadata lives in a
database of its own in a PostgreSQL 15 server started for them by `running_postgres`
(server_postgres.py). Each process runs in its own process group with its output in a log
file of the home, and is stopped by its pid (SIGTERM, then SIGKILL for what is left of its
group) at the end of the session, also when a test fails.

Tests write DAG files to `dags`, then `wait_parsed`, `trigger`, `wait` and read
`task_states`; the metadata database is polled directly with psycopg and runs are
triggered through the REST API (the simple auth manager makes every caller an admin,
which is safe on a loopback port for the length of a test session).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_postgres import BIN, PostgresServer, as_postgres, free_port, running_postgres

READY_TIMEOUT = 90
PROCESSES = {
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "api-server": ["api-server", "--host", "127.0.0.1", "--port", "{port}"],
}
FINAL_RUN_STATES = ("success", "failed")


class AirflowError(AssertionError):
    """The deployment did not do what a test waited for; the message carries its logs."""


@dataclasses.dataclass
class AirflowScheduler:
    """What `airflow_scheduler` yields: `dags` (write DAG files here), `workdir` (the
    processes' working directory, so the task processes'), `home` (AIRFLOW_HOME, with the
    server logs in `logs/<process>.log` and the task logs below them) and `env` (for the
    CLI: `cli(...)`)."""

    home: Path
    dags: Path
    workdir: Path
    api_url: str
    env: dict[str, str]
    metadata: PostgresServer
    processes: dict[str, subprocess.Popen] = dataclasses.field(default_factory=dict)

    # ------------------------------------------------------------------ metadata

    def query(self, text: str, params: list | None = None) -> list[tuple]:
        return self.metadata.query(text, params)

    def import_errors(self) -> dict[str, str]:
        """File -> stack trace of every DAG file the processor failed to import."""
        rows = self.query("SELECT filename, stacktrace FROM import_error ORDER BY filename")
        return {filename: stacktrace for filename, stacktrace in rows}

    def wait_parsed(self, dag_id: str, timeout: float = 60) -> None:
        """Wait until the dag processor has serialized `dag_id`; fail at once on any
        import error (as `airflow dags list-import-errors` would list it)."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            errors = self.import_errors()
            if errors:
                raise AirflowError(f"import errors: {json.dumps(errors, indent=1)}")
            rows = self.query(
                "SELECT 1 FROM dag JOIN serialized_dag USING (dag_id)"
                " WHERE dag_id = %s AND NOT dag.is_stale",
                [dag_id],
            )
            if rows:
                return
            if time.monotonic() > deadline:
                raise AirflowError(f"DAG {dag_id} not parsed within {timeout}s\n{self.log_tail()}")
            time.sleep(0.5)

    def _api(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.api_url}/api/v2/{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            raise AirflowError(f"{method} {path}: HTTP {error.code}: {detail}") from None

    def unpause(self, dag_id: str) -> None:
        """Let the scheduler start runs of `dag_id` (DAGs start paused here)."""
        self._api("PATCH", f"dags/{dag_id}", {"is_paused": False})

    def runs(self, dag_id: str) -> list[tuple[str, str, str | None]]:
        """(run id, run type, state) of every run of `dag_id`, oldest first."""
        rows = self.query(
            "SELECT run_id, run_type, state FROM dag_run WHERE dag_id = %s ORDER BY id",
            [dag_id],
        )
        return [(run_id, run_type, state) for run_id, run_type, state in rows]

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        """Unpause `dag_id`, start a run of it with `conf`; return the run id."""
        self._api("PATCH", f"dags/{dag_id}", {"is_paused": False})
        run = self._api(
            "POST", f"dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}}
        )
        return run["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.query(
            "SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", [dag_id, run_id]
        )
        return rows[0][0] if rows else None

    def wait(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        """Wait until the run is finished; return its final state."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            state = self.run_state(dag_id, run_id)
            if state in FINAL_RUN_STATES:
                return state
            if time.monotonic() > deadline:
                raise AirflowError(
                    f"run {run_id} of {dag_id} still {state} after {timeout}s: "
                    f"{self.task_states(dag_id, run_id)}\n{self.log_tail()}"
                )
            time.sleep(1)

    def task_states(self, dag_id: str, run_id: str) -> dict[tuple[str, int], str | None]:
        """(task id, map index) -> state of every task instance of the run."""
        rows = self.query(
            "SELECT task_id, map_index, state FROM task_instance"
            " WHERE dag_id = %s AND run_id = %s ORDER BY task_id, map_index",
            [dag_id, run_id],
        )
        return {(task_id, map_index): state for task_id, map_index, state in rows}

    def asset_events(self, dag_id: str, run_id: str) -> list[str]:
        """The URI of the asset of every asset event the run emitted, sorted."""
        rows = self.query(
            "SELECT asset.uri FROM asset_event JOIN asset ON asset.id = asset_event.asset_id"
            " WHERE source_dag_id = %s AND source_run_id = %s ORDER BY 1",
            [dag_id, run_id],
        )
        return [uri for (uri,) in rows]

    # ------------------------------------------------------------------ processes

    def log_file(self, name: str) -> Path:
        return self.home / "logs" / f"{name}.log"

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AirflowError(
                    f"airflow {name} exited with {process.returncode}\n{self.log_tail()}"
                )

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of every server log, then of the task logs that hold an error."""
        parts = []
        for name in self.processes:
            text = _read(self.log_file(name))
            parts.append(f"--- {name} ---\n" + "\n".join(text.splitlines()[-lines:]))
        task_logs = sorted(
            (p for p in (self.home / "logs").rglob("attempt=*") if p.is_file()),
            key=lambda p: p.stat().st_mtime,
        )
        failed = [p for p in task_logs if '"level":"error"' in _read(p) or "Traceback" in _read(p)]
        for path in failed[-3:]:
            errors = [line for line in _read(path).splitlines() if '"level":"error"' in line]
            parts.append(f"--- {path.relative_to(self.home)} ---\n" + "\n".join(errors)[-2000:])
        return "\n".join(parts)

    def cli(self, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`airflow <arguments>` against this deployment."""
        return subprocess.run(
            [sys.executable, "-m", "airflow", *arguments],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def airflow_environment(
    home: Path, metadata: PostgresServer, port: int, parallelism: int = 4
) -> dict[str, str]:
    url = (
        f"postgresql+psycopg://{metadata.user}:{metadata.password}"
        f"@{metadata.host}:{metadata.port}/{metadata.dbname}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    bin_dir = os.path.dirname(sys.executable)
    env.update(
        PATH=os.pathsep.join([bin_dir, env.get("PATH", "/usr/bin:/bin")]),
        PYTHONWARNINGS="ignore",
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM=str(parallelism),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__CORE__FERNET_KEY="",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=url,
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC=url,
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__API__SECRET_KEY=secrets.token_hex(16),
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(32),
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="2",
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="30",
        AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL="2",
        AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES="1",
        AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL="600",
        AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME="0.5",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
    )
    return env


def start(name: str, deployment: AirflowScheduler, port: int) -> None:
    arguments = [a.format(port=port) for a in PROCESSES[name]]
    log = deployment.log_file(name).open("ab")
    try:
        deployment.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *arguments],
            env=deployment.env,
            cwd=deployment.workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()


def stop(processes: list[subprocess.Popen], grace: float = 15) -> None:
    """SIGTERM to each process, then SIGKILL to whatever is left of their process groups."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def wait_healthy(deployment: AirflowScheduler, deadline: float) -> None:
    """Until the API server answers and reports scheduler and dag processor healthy."""
    last = "no answer"
    while time.monotonic() < deadline:
        deployment.check_alive()
        try:
            with urllib.request.urlopen(
                f"{deployment.api_url}/api/v2/monitor/health", timeout=5
            ) as response:
                health = json.loads(response.read())
            last = json.dumps(health)
            if all(
                health.get(part, {}).get("status") == "healthy"
                for part in ("metadatabase", "scheduler", "dag_processor")
            ):
                return
        except (OSError, ValueError) as error:
            last = str(error)
        time.sleep(0.5)
    raise AirflowError(f"Airflow not healthy in time: {last}\n{deployment.log_tail()}")


@contextlib.contextmanager
def running_airflow(directory: str, parallelism: int = 4) -> Iterator[AirflowScheduler]:
    """Airflow's scheduler, dag processor and API server over a PostgreSQL of their own."""
    deadline = time.monotonic() + READY_TIMEOUT
    with running_postgres(directory) as server:
        sockets = os.path.join(directory, "postgres", "sockets")
        created = as_postgres(
            f"{BIN}/psql",
            "-h",
            sockets,
            "-p",
            str(server.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            f"CREATE DATABASE airflow OWNER {server.user}",
        )
        if created.returncode:
            raise RuntimeError(f"CREATE DATABASE failed: {created.stdout}{created.stderr}")
        metadata = dataclasses.replace(server, dbname="airflow")
        home = Path(directory) / "airflow"
        for sub in ("dags", "logs", "work"):
            (home / sub).mkdir(parents=True)
        port = free_port()
        deployment = AirflowScheduler(
            home=home,
            dags=home / "dags",
            workdir=home / "work",
            api_url=f"http://127.0.0.1:{port}",
            env=airflow_environment(home, metadata, port, parallelism),
            metadata=metadata,
        )
        try:
            migrated = deployment.cli("db", "migrate", timeout=READY_TIMEOUT)
            deployment.log_file("db-migrate").write_text(migrated.stdout + migrated.stderr)
            if migrated.returncode:
                raise AirflowError(f"airflow db migrate failed:\n{migrated.stderr[-5000:]}")
            for name in PROCESSES:
                start(name, deployment, port)
            wait_healthy(deployment, deadline)
            yield deployment
        finally:
            stop(list(deployment.processes.values()))


@pytest.fixture(scope="session")
def airflow_scheduler() -> Iterator[AirflowScheduler]:
    with tempfile.TemporaryDirectory(prefix="aorist-airflow-") as directory:
        with running_airflow(directory) as deployment:
            yield deployment
