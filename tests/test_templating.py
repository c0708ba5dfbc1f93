"""Airflow renders task arguments as Jinja templates: declared text must never be one.

A URL holding `{{ var.value.get('secret_token') }}` once sent the Airflow Variable's
value to the remote server. The universe of test_injection.py (URLs, temporary paths,
the lake path and every free-text field full of Jinja expressions, statements and
comments, shell substitutions, and values ending like template files) runs here with
dag.test() while the Variable is set; the server must see each URL as declared.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from test_injection import (
    SECRET,
    URL_PATHS,
    check_templated_run,
    serve_templated,
    templated_universe,
)

from aorist import dag

from conftest import AIRFLOW_RUNNER, CONSTRAINTS, airflow_env, expected_graph


def run_dag(home: Path, code: str, dag_id: str, cwd: Path) -> dict:
    """Load and run the DAG file with dag.test() while the Variable secret_token is set."""
    path = cwd / f"{dag_id}.py"  # relative paths are read against the DAG file's folder
    path.write_text(code)
    result = subprocess.run(
        [sys.executable, str(AIRFLOW_RUNNER), str(path), dag_id, "run"],
        env={**airflow_env(home, cwd), "AIRFLOW_VAR_SECRET_TOKEN": SECRET},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, result.stdout[-3000:] + result.stderr[-5000:]
    return json.loads(lines[-1])


def test_declared_text_reaches_tasks_as_data(airflow_home: Path, http_server, tmp_path: Path):
    counts = serve_templated(http_server)
    universe = templated_universe(http_server.base_url)
    code = dag(universe, CONSTRAINTS, "airflow")
    report = run_dag(airflow_home, code, universe.name, tmp_path)
    assert report["import_errors"] == {}
    assert report["tasks"] == expected_graph(universe)
    assert report["state"] == "success", report["failed"]
    check_templated_run(http_server, tmp_path, counts)
    # The DAG's documentation is the module docstring as written: not read as a file,
    # not rendered.
    assert report["doc_md"] == ast.get_docstring(ast.parse(code), clean=False)


CONTROL = """
import urllib.error
import urllib.request
from datetime import datetime, timezone

from airflow.sdk import dag, task


@dag(dag_id="control", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc))
def control() -> None:
    @task
    def fetch(url: str) -> None:
        try:
            urllib.request.urlopen(url).close()
        except urllib.error.HTTPError:
            pass

    fetch(url=URL)


control()
"""


def test_a_templated_argument_would_send_the_secret(
    airflow_home: Path, http_server, tmp_path: Path
):
    """The control: the same URL passed as a task argument is rendered with the Variable
    (so the test above would see the secret if the dialect passed declared text)."""
    url = http_server.base_url + URL_PATHS["expression"]
    report = run_dag(airflow_home, f"URL = {url!r}\n{CONTROL}", "control", tmp_path)
    assert report["import_errors"] == {}
    assert any(SECRET in path for path in http_server.requests), http_server.requests
