"""Shared fixtures and helpers of the end-to-end suite.

- ``http_server``: a local HTTP server that serves fixture files and records requests.
- ``run_generated``: write a generated script to ``<cwd>/main.py`` and run it.
- ``lake_tables`` / ``lake_columns`` / ``lake_files``: inspect the embedded lake a
  generated script leaves behind (``<cwd>/lake/lake.duckdb`` and the files next to it).
- ``assert_no_aorist_import``: generated code must be self-contained.

Test modules import the plain helpers with ``from conftest import ...``; the tests
directory is put on ``sys.path`` below so this also works under ``--import-mode=importlib``.
"""

from __future__ import annotations

import ast
import bz2
import functools
import gzip
import hashlib
import http.server
import importlib.util
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pytest

if TYPE_CHECKING:
    from aorist import Universe

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

# A development checkout keeps the Python half of the package under python/. When no
# installed `aorist` is importable, fall back to it (a no-op once the package is installed).
if (
    importlib.util.find_spec("aorist") is None
    and (REPO_ROOT / "python" / "aorist" / "__init__.py").exists()
):
    sys.path.insert(0, str(REPO_ROOT / "python"))

RUN_TIMEOUT = 120

# The servers engine tests run against, each a session fixture started on 127.0.0.1 and
# stopped by pid: PostgreSQL, Spark's environment, an S3-compatible store, Airflow.
pytest_plugins = ["server_postgres", "server_spark", "server_s3", "server_airflow"]
LAKE_DIR = "lake"
LAKE_DB = "lake.duckdb"
CONSTRAINTS = ["AllAssetsComputed"]

# ----------------------------------------------------------------------- HTTP server


class _RequestLog:
    """A thread-safe list of the request paths the server has seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: list[str] = []

    def append(self, path: str) -> None:
        with self._lock:
            self._paths.append(path)

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self._paths)

    def clear(self) -> None:
        with self._lock:
            self._paths.clear()


class _Handler(SimpleHTTPRequestHandler):
    """Serves ``directory`` (bound with functools.partial), records paths, logs nothing."""

    request_log: _RequestLog  # set on the per-server subclass
    body_log: _RequestLog  # the GET requests answered with a body (200)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.request_log.append(self.path)
        super().do_GET()

    def send_response(self, code: int, message: str | None = None) -> None:
        if self.command == "GET" and code == 200:
            self.body_log.append(self.path)
        super().send_response(code, message)

    def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
        self.request_log.append(self.path)
        super().do_HEAD()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up mid-response (a failing script, say) is not our error.
        pass


class HttpServer:
    """What the ``http_server`` fixture yields.

    ``root``: write fixture files here; ``base_url``: ``http://127.0.0.1:<port>`` (no
    trailing slash); ``requests``: a copy of the paths requested so far, in order;
    ``fetched``: those answered with a body (a conditional request answered "not
    modified" is not one).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._log = _RequestLog()
        self._bodies = _RequestLog()
        handler = type(
            "_BoundHandler", (_Handler,), {"request_log": self._log, "body_log": self._bodies}
        )
        self._server = _QuietServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
        )
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fixture-http", daemon=True
        )
        self._thread.start()

    @property
    def requests(self) -> list[str]:
        return self._log.snapshot()

    @property
    def fetched(self) -> list[str]:
        return self._bodies.snapshot()

    def clear_requests(self) -> None:
        self._log.clear()
        self._bodies.clear()

    def url(self, relative: str) -> str:
        return f"{self.base_url}/{relative.lstrip('/')}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    """A fresh server per test over an empty directory outside the test's ``tmp_path``."""
    server = HttpServer(tmp_path_factory.mktemp("www"))
    try:
        yield server
    finally:
        server.close()


# ----------------------------------------------------------------------- running scripts


def aorist_imports(code: str) -> list[str]:
    """Every module name the code imports that is ``aorist`` or below it."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
            in ("__import__", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        else:
            continue
        found += [n for n in names if n == "aorist" or n.startswith("aorist.")]
    return found


def assert_no_aorist_import(code: str) -> None:
    imports = aorist_imports(code)
    assert not imports, f"generated code must be self-contained but imports {imports}"


def _minimal_env() -> dict[str, str]:
    """Like ``env -i``: no PYTHONPATH, no proxies, no secrets; just enough to run Python."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    for key in ("HOME", "TMPDIR", "SYSTEMROOT"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def run_generated(
    code: str,
    cwd: Path,
    expect_ok: bool = True,
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Write ``code`` to ``cwd/main.py``, run it there with a minimal environment (plus
    ``env``: an engine's credentials, say) and command-line ``args``.

    Asserts the return code is 0 when ``expect_ok``, non-zero otherwise; the assertion
    message carries the script's output.
    """
    assert isinstance(code, str), f"dag() must return str, got {type(code).__name__}"
    assert_no_aorist_import(code)
    cwd = Path(cwd)
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "main.py").write_text(code, encoding="utf-8")
    try:
        proc = subprocess.run(
            [sys.executable, "main.py", *(args or [])],
            cwd=cwd,
            env={**_minimal_env(), **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=RUN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - reported as a failure
        pytest.fail(f"generated script did not finish within {RUN_TIMEOUT}s in {cwd}: {exc}")
    report = (
        f"generated script {cwd / 'main.py'} exited {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"
    )
    if expect_ok:
        assert proc.returncode == 0, report
    else:
        assert proc.returncode != 0, "expected the generated script to fail\n" + report
    return proc


def dry_run_states(out: str) -> dict[str, str]:
    """The `task: state` lines of a program's `--dry-run` output, by task."""
    found = {}
    for line in out.splitlines():
        task, sep, state = line.partition(": ")
        if sep and state.split(" ")[0] in ("fresh", "stale", "missing") and " " not in task:
            found[task] = state
    return found


def dry_run(
    code: str, cwd: Path, fresh: bool, env: dict[str, str] | None = None
) -> tuple[dict[str, str], str]:
    """Run the program with `--dry-run` (it must exit 0 exactly when `fresh`): its
    `task: state` lines by task, and its output."""
    proc = run_generated(code, cwd, expect_ok=fresh, env=env, args=["--dry-run"])
    out = output_of(proc)
    return dry_run_states(out), out


def touch_later(path: Path) -> None:
    """A new modification time, a few seconds on: HTTP dates count whole seconds."""
    later = path.stat().st_mtime + 5
    os.utime(path, (later, later))


def engine_steps_skipped(out: str) -> list[str]:
    """The tasks a run skipped as up to date, but the downloads (which the lake's
    steps share): on another engine, its own steps said they had nothing to do."""
    return [
        line
        for line in out.splitlines()
        if line.startswith("skipped ") and ": up to date" in line and "_downloaded:" not in line
    ]


def output_of(proc: subprocess.CompletedProcess[str]) -> str:
    return f"{proc.stdout}\n{proc.stderr}"


# ----------------------------------------------------------------------- inspecting the lake


def lake_db(cwd: Path) -> Path:
    return Path(cwd) / LAKE_DIR / LAKE_DB


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _split(qualified: str) -> tuple[str, str]:
    schema, _, table = qualified.partition(".")
    assert table, f"expected 'schema.table', got {qualified!r}"
    return schema, table


def lake_objects(cwd: Path) -> dict[str, str]:
    """``"schema.name"`` -> ``"BASE TABLE"`` or ``"VIEW"`` for every user object in the lake.

    Every schema counts (``main`` and ``_staging`` included) except DuckDB's own catalogs
    and ``_aorist``, where generated programs record what each table was published from.
    A missing database file means an empty lake.
    """
    import duckdb

    path = lake_db(cwd)
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = current_database() "
            "AND table_schema NOT IN ('information_schema', 'pg_catalog', '_aorist') "
            "ORDER BY table_schema, table_name"
        ).fetchall()
    return {f"{schema}.{name}": kind for schema, name, kind in rows}


def lake_tables(cwd: Path) -> dict[str, int]:
    """``"schema.table"`` -> row count for every table and view in the lake.

    A view that cannot be read any more (its files are gone) counts as -1.
    """
    import duckdb

    objects = lake_objects(cwd)
    if not objects:
        return {}
    counts: dict[str, int] = {}
    with duckdb.connect(str(lake_db(cwd)), read_only=True) as con:
        for qualified in objects:
            schema, table = _split(qualified)
            try:
                counts[qualified] = con.execute(
                    f"SELECT count(*) FROM {_quote(schema)}.{_quote(table)}"
                ).fetchall()[0][0]
            except duckdb.Error:
                counts[qualified] = -1
    return counts


def lake_columns(cwd: Path, qualified: str) -> list[tuple[str, str]]:
    """``[(column name, DuckDB type)]`` of ``"schema.table"``, in column order."""
    import duckdb

    schema, table = _split(qualified)
    with duckdb.connect(str(lake_db(cwd)), read_only=True) as con:
        return [
            (name, kind)
            for name, kind in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
        ]


def lake_query(cwd: Path, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    """Run one read-only query against the lake."""
    import duckdb

    with duckdb.connect(str(lake_db(cwd)), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def lake_files(cwd: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under ``lake/`` except the DuckDB database."""
    root = Path(cwd) / LAKE_DIR
    if not root.exists():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith(LAKE_DB)
    }


# ----------------------------------------------------------------------- recipe tests
# A scripted HTTP server and compressed archives, shared by the Python/Bash/SQL recipe
# tests and the R recipe tests (tests/recipes/).

PAYLOAD = b"a\tb\n" * 1000


class Handler(http.server.BaseHTTPRequestHandler):
    # path -> list of (status, body) or (status, body, declared length), served in turn
    routes: ClassVar[dict] = {}
    hits: ClassVar[dict] = {}
    agents: ClassVar[list] = []

    def do_GET(self) -> None:
        Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        Handler.agents.append(self.headers.get("User-Agent"))
        responses = Handler.routes.get(self.path, [(404, b"not found")])
        status, data, *declared = responses[min(Handler.hits[self.path], len(responses)) - 1]
        length = declared[0] if declared and declared[0] is not None else len(data)
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    Handler.routes = {}
    Handler.hits = {}
    Handler.agents = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def archives(tmp_path) -> dict:
    # A multi-member gzip: decompressors must read past the first member.
    (tmp_path / "data.gz").write_bytes(gzip.compress(PAYLOAD[:7]) + gzip.compress(PAYLOAD[7:]))
    (tmp_path / "data.bz2").write_bytes(bz2.compress(PAYLOAD))
    with zipfile.ZipFile(tmp_path / "data.zip", "w") as archive:
        archive.writestr("dir/", b"")
        archive.writestr("dir/weird [1]*?.tsv", PAYLOAD)
        archive.writestr("__MACOSX/dir/._weird", b"junk")
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
        archive.writestr("one.tsv", PAYLOAD)
        archive.writestr("two.tsv", PAYLOAD)
    return {
        "gzip": tmp_path / "data.gz",
        "bz2": tmp_path / "data.bz2",
        "zip": tmp_path / "data.zip",
    }


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------- Airflow

AIRFLOW_RUNNER = TESTS_DIR / "airflow_runner.py"


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("airflow_home")
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=airflow_env(home, home / "dags"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return home


def airflow_env(home: Path, dags: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        PYTHONWARNINGS="ignore",
    )
    return env


def airflow(
    home: Path, code: str, dag_id: str, cwd: Path, mode: str, conf: dict | None = None
) -> dict:
    """Load (and run, with the run parameters `conf`) the DAG written to `cwd/<dag_id>.py`:
    its relative paths (the lake, temporary files) are read against that folder, so the
    lake is `cwd/lake`."""
    path = cwd / f"{dag_id}.py"
    path.write_text(code)
    result = subprocess.run(
        [sys.executable, str(AIRFLOW_RUNNER), str(path), dag_id, mode],
        env={**airflow_env(home, cwd), "AORIST_RUN_CONF": json.dumps(conf)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, result.stdout[-3000:] + result.stderr[-5000:]
    return json.loads(lines[-1])


def expected_graph(universe: Universe, fuse: bool = True) -> dict[str, list[str]]:
    """Task ids and their upstream ids, from the constraint DAG and the plan's names.

    A fused task makes several constraint instances of its concept true (its
    constraint and `covers`): their dependencies on other tasks are its own.
    """
    from aorist import stage

    def staged(name: str) -> dict:
        return json.loads(stage(universe, ["AllAssetsComputed"], name, fuse=fuse))

    instances = staged("dag")["instances"]
    groups = staged("compressed")["groups"]
    bound = staged("bound")["steps"]
    task_of: dict[tuple[int, str], str] = {}
    for group in groups:
        for step, task in zip(group["steps"], group["tasks"], strict=True):
            made = [bound[step]["constraint"], *bound[step].get("covers", [])]
            for constraint in made:
                task_of[(bound[step]["node"], constraint)] = task
    owner = {i["id"]: task_of[(i["node"], i["constraint"])] for i in instances}
    graph: dict[str, set[str]] = {}
    for instance in instances:
        task = owner[instance["id"]]
        upstream = graph.setdefault(task, set())
        upstream.update(owner[d] for d in instance["deps"] if owner[d] != task)
    return {task: sorted(upstream) for task, upstream in graph.items()}


# ------------------------------------------------------- Dagster, Prefect and Hamilton


@pytest.fixture(scope="session")
def tool_homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Where Dagster and Prefect keep their state, out of the user's home; no telemetry."""
    root = tmp_path_factory.mktemp("orchestrators")
    dagster_home = root / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    prefect_home = root / "prefect"
    return {
        "DAGSTER_HOME": str(dagster_home),
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(prefect_home / "results"),
        "PREFECT_SERVER_MEMO_STORE_PATH": str(prefect_home / "memo_store.toml"),
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
        "HAMILTON_TELEMETRY_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
