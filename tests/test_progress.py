"""Long work reports progress at most once a second, and one line when it ends.

A source is served slowly (about 3 MB over 3 s) from the loopback server; the
generated python program, the Airflow task log, the notebook and the R script must say,
while it downloads, how many bytes are done (of how many, when the server said) and at
what rate, then one closing line per step with its bytes or rows and seconds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from test_r_dialect import run_r
from test_trust import Scripted
from test_trust import universe as trust_universe

from aorist import TSVEncoding, dag

from conftest import AIRFLOW_RUNNER, airflow_env, lake_tables, run_generated

ROWS = 300_000
BODY = b"".join(b"%d\t%d\n" % (i, i + 1) for i in range(ROWS))
SECONDS = 3.0


@pytest.fixture
def slow() -> Iterator[Scripted]:
    server = Scripted()

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(BODY)))
        handler.end_headers()
        chunk = 64 * 1024
        pause = SECONDS / (len(BODY) / chunk)
        for start in range(0, len(BODY), chunk):
            handler.wfile.write(BODY[start : start + chunk])
            handler.wfile.flush()
            time.sleep(pause)

    server.routes["/edges"] = route
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def code_for(server: Scripted, dialect: str) -> str:
    return dag(
        trust_universe(server.base, {"edges": TSVEncoding()}), ["AllAssetsComputed"], dialect
    )


def reported(out: str, url: str, of_total: bool) -> list[str]:
    """The download's progress lines, each checked for its form."""
    amount = r"\d+\.\d MB"
    total = rf" of {len(BODY) / 1e6:.1f} MB \(\d+%\)" if of_total else ""
    lines = [line for line in out.splitlines() if line.startswith(f"download {url}: ")]
    progress = [line for line in lines if not line.endswith(" s")]
    for line in progress:
        assert re.fullmatch(rf"download {re.escape(url)}: {amount}{total}, {amount}/s", line), line
    # At most one a second: never more lines than seconds, and some while it ran.
    assert 1 <= len(progress) <= SECONDS + 2, lines
    closing = [line for line in lines if line.endswith(" s")]
    assert len(closing) == 1, lines
    assert re.fullmatch(
        rf"download {re.escape(url)}: {len(BODY):,} bytes in \d+\.\d s", closing[0]
    ), closing
    return progress


def test_the_python_program_reports_download_progress_and_closing_lines(slow, tmp_path):
    proc = run_generated(code_for(slow, "python"), tmp_path)
    reported(proc.stdout, f"{slow.base}/edges", of_total=True)
    assert re.search(rf"^load g\.edges: {ROWS:,} rows in \d+\.\d s$", proc.stdout, re.M)
    assert re.search(r"^finished edges_downloaded in \d+\.\d s$", proc.stdout, re.M)
    assert lake_tables(tmp_path) == {"g.edges": ROWS}


def test_the_notebook_shows_progress_in_its_cell_output(slow, tmp_path):
    notebook = nbformat.reads(code_for(slow, "jupyter"), as_version=4)
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    out = "".join(
        o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
    )
    reported(out, f"{slow.base}/edges", of_total=True)
    assert json.dumps(out).count(f"load g.edges: {ROWS:,} rows in ") == 1
    assert lake_tables(tmp_path) == {"g.edges": ROWS}


def test_the_r_script_reports_download_progress_and_closing_lines(slow, tmp_path: Path):
    proc = run_r(code_for(slow, "r"), tmp_path)
    # download.file() does not say the length it was told: no total here.
    reported(proc.stdout, f"{slow.base}/edges", of_total=False)
    assert re.search(rf"^load g\.edges: {ROWS:,} rows in \d+\.\d s$", proc.stdout, re.M)
    assert re.search(r"^finished edges_downloaded in \d+\.\d s$", proc.stderr, re.M)
    assert lake_tables(tmp_path) == {"g.edges": ROWS}


def test_the_airflow_task_log_shows_progress(slow, airflow_home: Path, tmp_path: Path):
    (tmp_path / "trust.py").write_text(code_for(slow, "airflow"))
    proc = subprocess.run(
        [sys.executable, str(AIRFLOW_RUNNER), str(tmp_path / "trust.py"), "trust", "run"],
        env={**airflow_env(airflow_home, tmp_path), "AORIST_RUN_CONF": "null"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["state"] == "success"
    # dag.test() prints each task's log: what the task printed is in it, line by line.
    log = "\n".join(
        line[line.index("download ") :] if "download http" in line else line
        for line in (proc.stdout + proc.stderr).splitlines()
    )
    reported(log, f"{slow.base}/edges", of_total=True)
    assert f"load g.edges: {ROWS:,} rows in " in log
    assert lake_tables(tmp_path) == {"g.edges": ROWS}
