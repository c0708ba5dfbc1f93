"""Spark for the engine tests: pyspark's local JVM, one at a time, on 127.0.0.1.

Spark is not a server: pyspark starts a JVM (``spark-submit``) per process that builds a
session. ``spark_environment(tmp_dir)`` prepares what such a process needs (the
environment variables, a ``spark-defaults.conf`` with the UI off and few shuffle
partitions, a warehouse and a Derby metastore under ``tmp_dir``) and yields a
``SparkEnvironment``; the session fixture ``spark_env`` wraps it.

- ``spark_env.session()``: ONE in-process ``SparkSession`` over the environment's own
  warehouse and metastore (for recipe tests), started lazily.
- ``spark_env.stop()``: stop that session AND its JVM (by the pid of its
  ``spark-submit``), so that a generated program can start its own: this machine runs
  one JVM at a time, and embedded Derby allows one JVM per metastore directory.
  ``session()`` starts a new one afterwards.
- ``spark_env.query(cwd, queries)``: run read-only queries on the warehouse and
  metastore a generated program left in ``cwd`` (``cwd/spark-warehouse``,
  ``cwd/metastore_db``), in a subprocess whose JVM has exited when it returns.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# pyspark 4 needs Java 17 or later; Debian's is the one the tests were run with.
JAVA_HOMES = ["/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/default-java"]

SPARK_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.driver.memory": "1g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}

# Run by `query()` in a subprocess: argv[1] is a JSON object {warehouse, metastore,
# queries}; prints one JSON line, the rows of each query as lists.
_QUERY_SCRIPT = r"""
import json, sys
from pyspark.sql import SparkSession
spec = json.loads(sys.argv[1])
spark = (
    SparkSession.builder.master("local[1]")
    .appName("aorist-test-reader")
    .config("spark.sql.warehouse.dir", spec["warehouse"])
    .config(
        "spark.hadoop.javax.jdo.option.ConnectionURL",
        "jdbc:derby:;databaseName=" + spec["metastore"] + ";create=true",
    )
    .enableHiveSupport()
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
out = []
try:
    for query in spec["queries"]:
        out.append([list(row) for row in spark.sql(query).collect()])
finally:
    spark.stop()
print("AORIST-RESULT " + json.dumps(out, default=str))
"""


def java_home() -> str | None:
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    for home in JAVA_HOMES:
        if Path(home, "bin", "java").exists():
            return home
    return None


class SparkEnvironment:
    """What ``spark_environment`` yields; see the module's docstring."""

    host = "127.0.0.1"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.warehouse = root / "warehouse"
        self.metastore = root / "metastore" / "metastore_db"
        self.conf_dir = root / "conf"
        for directory in (self.warehouse, self.metastore.parent, self.conf_dir):
            directory.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "spark-defaults.conf").write_text(
            "".join(f"{key} {value}\n" for key, value in SPARK_DEFAULTS.items()),
            encoding="utf-8",
        )
        self.env: dict[str, str] = {
            "SPARK_LOCAL_IP": self.host,
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            "SPARK_CONF_DIR": str(self.conf_dir),
        }
        home = java_home()
        if home:
            self.env["JAVA_HOME"] = home
        self._session: Any = None
        self._saved: dict[str, str | None] = {}

    # ------------------------------------------------------------ the in-process session

    def session(self) -> Any:
        """The one in-process SparkSession (Hive catalog in this environment's Derby)."""
        if self._session is not None:
            return self._session
        for key, value in self.env.items():
            self._saved.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        from pyspark.sql import SparkSession

        url = f"jdbc:derby:;databaseName={self.metastore};create=true"
        self._session = (
            SparkSession.builder.master("local[1]")
            .appName("aorist-tests")
            .config("spark.sql.warehouse.dir", str(self.warehouse))
            .config("spark.hadoop.javax.jdo.option.ConnectionURL", url)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .enableHiveSupport()
            .getOrCreate()
        )
        self._session.sparkContext.setLogLevel("ERROR")
        return self._session

    def stop(self) -> None:
        """Stop the in-process session and its JVM (by pid); a no-op when none runs."""
        from pyspark import SparkContext

        if self._session is not None:
            self._session.stop()
            self._session = None
        gateway = SparkContext._gateway
        if gateway is not None:
            process = getattr(gateway, "proc", None)
            with contextlib.suppress(Exception):
                gateway.shutdown()
            if process is not None and process.stdin is not None:
                # The JVM exits when this pipe closes (pyspark's own shutdown signal).
                with contextlib.suppress(OSError):
                    process.stdin.close()
            if process is not None and process.poll() is None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=30)
            SparkContext._gateway = None
            SparkContext._jvm = None
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved = {}

    # ------------------------------------------------------------ a generated program's tables

    def query(
        self, cwd: Path, queries: list[str], warehouse_dir: str = "spark-warehouse"
    ) -> list[list[list[Any]]]:
        """The rows of each query on the warehouse/metastore a program left in ``cwd``."""
        self.stop()
        spec = {
            "warehouse": str(Path(cwd) / warehouse_dir),
            "metastore": str(Path(cwd) / "metastore_db"),
            "queries": queries,
        }
        proc = subprocess.run(
            [sys.executable, "-c", _QUERY_SCRIPT, json.dumps(spec)],
            cwd=self.root,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("AORIST-RESULT ")]
        assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-5000:]
        return json.loads(lines[-1].removeprefix("AORIST-RESULT "))


@contextlib.contextmanager
def spark_environment(tmp_dir: Path) -> Iterator[SparkEnvironment]:
    """A Spark environment under ``tmp_dir``; its JVM (if one was started) is stopped after."""
    root = Path(tmp_dir)
    root.mkdir(parents=True, exist_ok=True)
    environment = SparkEnvironment(root)
    try:
        yield environment
    finally:
        environment.stop()
        shutil.rmtree(environment.conf_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkEnvironment]:
    """The session's Spark environment; nothing starts until a test asks for a session."""
    with spark_environment(tmp_path_factory.mktemp("spark")) as environment:
        yield environment
