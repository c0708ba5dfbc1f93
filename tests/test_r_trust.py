"""The r dialect never publishes wrong data, and recovers once the data is right.

The same scripted sources as tests/test_trust.py, run by R scripts (Rscript) and by
Python programs whose steps are R or Bash recipes: a bad source fails its asset alone,
a fixed source is enough for the next run, a rerun changes nothing, a changed
declaration reruns that asset's steps, and one run at a time holds the lake. Nothing is
ever deleted by hand between runs.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_trust import BAD_SOURCES, EDGES, GZ, TSV, rows, scripted, staging_views, universe

from aorist import CSVHeader, TSVEncoding, dag

from conftest import lake_tables, output_of, run_generated

__all__ = ["scripted"]  # the fixture, shared with tests/test_trust.py

TIMEOUT = 180


def rscript() -> str:
    path = shutil.which("Rscript")
    assert path, "Rscript is not installed: run scripts/install-r.sh (make install-tools)"
    assert shutil.which("duckdb"), "the duckdb CLI is missing: run scripts/install-r.sh"
    return path


def environment() -> dict[str, str]:
    """Like `env -i`: just enough to run R (no R_LIBS, no proxies, no secrets)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    env.update({k: os.environ[k] for k in ("HOME", "TMPDIR") if k in os.environ})
    return env


def run_r(
    code: str, cwd: Path, expect_ok: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Write `code` to cwd/main.R and run it there with Rscript (plus `env`)."""
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "main.R").write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [rscript(), "--vanilla", "main.R"],
        cwd=cwd,
        env={**environment(), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    report = f"main.R exited {proc.returncode}\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    assert (proc.returncode == 0) == expect_ok, report
    return proc


def start_r(cwd: Path) -> subprocess.Popen[str]:
    """Start `cwd/main.R` with Rscript, its output captured."""
    return subprocess.Popen(
        [rscript(), "--vanilla", "main.R"],
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def r_program(base: str, sources: dict[str, object], fuse: bool = True) -> str:
    return dag(universe(base, sources), ["AllAssetsComputed"], "r", fuse=fuse)


def mtimes(cwd: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in cwd.rglob("*") if p.is_file()}


def changed(before: dict[Path, int], after: dict[Path, int], cwd: Path) -> set[str]:
    """Files made or rewritten between two snapshots, relative to cwd."""
    return {p.relative_to(cwd).as_posix() for p in after if before.get(p) != after[p]}


LAKE_DATABASE = {"lake/lake.duckdb", "lake/lake.duckdb.wal"}
# Tests of which temporary files a rerun makes again keep them all.
KEEP = {"AORIST_KEEP_TEMPORARY_FILES": "1"}
EDGE_ROWS = [tuple(edge) for edge in EDGES]


# ---------------------------------------------------------------- failure isolation

R_BAD_SOURCES = {
    **BAD_SOURCES,
    # A value DuckDB's own cast would round to 4.
    "fraction_in_integer": (
        TSVEncoding(),
        lambda s: s.serve("/bad", b"1\t2\n3\t3.5\n"),
        "g.bad: column \"to_id\", line 2: '3.5' is not a whole number (BIGINT)",
    ),
}


@pytest.mark.parametrize("case", sorted(R_BAD_SOURCES))
def test_bad_source_fails_alone_and_a_fixed_source_is_enough(scripted, tmp_path, case) -> None:
    encoding, serve_bad, cause = R_BAD_SOURCES[case]
    scripted.serve("/good", TSV)
    serve_bad(scripted)
    code = r_program(scripted.base, {"good": TSVEncoding(), "bad": encoding})

    out = output_of(run_r(code, tmp_path, expect_ok=False))
    assert "FAILED bad_" in out and cause in out, out
    assert "1 task(s) failed" in out and "skipped all_assets_computed" in out
    # The independent asset is published; the bad one is not, and leaves no view behind.
    assert lake_tables(tmp_path) == {"g.good": len(EDGES)}
    assert staging_views(tmp_path) == []
    assert not (tmp_path / "lake" / ".lock").exists()

    # The source is fixed upstream: the next run fetches it again and succeeds.
    scripted.serve("/bad", gzip.compress(TSV) if encoding is GZ else TSV)
    again = output_of(run_r(code, tmp_path))
    assert "FAILED" not in again and "did not finish" not in again
    assert rows(tmp_path, "g.bad") == rows(tmp_path, "g.good") == EDGE_ROWS
    assert not list(tmp_path.rglob("*.part"))


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_the_failed_task_and_what_it_stopped_are_named(scripted, tmp_path, fuse) -> None:
    scripted.serve("/good", TSV)
    scripted.serve("/bad", b"1\t2\n3\t3.5\n")
    proc = run_r(
        r_program(scripted.base, {"good": TSVEncoding(), "bad": TSVEncoding()}, fuse),
        tmp_path,
        False,
    )
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    # The fused step reads the download: the same words, line included.
    step = "source_loaded" if fuse else "converted_to_target_encoding"
    failed = f'FAILED bad_{step}: g.bad: column "to_id", line 2: '
    assert failed + "'3.5' is not a whole number (BIGINT)" in lines, proc.stderr
    after = "asset_computed" if fuse else "table_published"
    assert f"skipped bad_{after}: upstream bad_{step} did not finish" in lines
    assert f"running good_{after}" in lines
    # What follows: the asset, its temporary files, the dataset, the universe (and the
    # separate steps' publish and drop).
    summary = lines.index(f"1 task(s) failed; {4 if fuse else 6} skipped after them:")
    assert lines[summary + 1].startswith(f"  bad_{step}: g.bad: column")


# ------------------------------------------------------------------------ reruns


def test_rerun_after_success_changes_nothing(scripted, tmp_path) -> None:
    scripted.serve("/a", gzip.compress(TSV))
    scripted.serve("/b", TSV)
    code = r_program(scripted.base, {"a": GZ, "b": TSVEncoding()})
    run_r(code, tmp_path)
    before, requests = mtimes(tmp_path), len(scripted.routes)
    second = output_of(run_r(code, tmp_path))
    # lake.duckdb is opened (the state check, the staging views) but no table is rewritten.
    assert changed(before, mtimes(tmp_path), tmp_path) <= LAKE_DATABASE | {"main.R"}
    assert "FAILED" not in second and len(scripted.routes) == requests
    assert rows(tmp_path, "g.a") == rows(tmp_path, "g.b") == EDGE_ROWS


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_a_changed_header_count_reruns_exactly_that_assets_steps(scripted, tmp_path, fuse) -> None:
    body = b"from\tto\n" + TSV
    scripted.serve("/a", gzip.compress(b"# comment\n" + body))
    scripted.serve("/b", gzip.compress(body))
    one = TSVEncoding(compression=GZ.compression, header=CSVHeader(num_lines=1))
    two = TSVEncoding(compression=GZ.compression, header=CSVHeader(num_lines=2))
    # Declared wrong: asset a keeps its column names as a row, so its load fails.
    out = output_of(
        run_r(r_program(scripted.base, {"a": one, "b": one}, fuse), tmp_path, False, env=KEEP)
    )
    step = "source_loaded" if fuse else "converted_to_target_encoding"
    assert f"FAILED a_{step}" in out
    assert "g.a: column \"from_id\", line 2: 'from' is not a whole number (BIGINT)" in out
    assert lake_tables(tmp_path) == {"g.b": len(EDGES)}
    before = mtimes(tmp_path)

    # The fixed declaration reruns a's steps from the header on, and nothing of b's.
    run_r(r_program(scripted.base, {"a": two, "b": one}, fuse), tmp_path, env=KEEP)
    made = changed(before, mtimes(tmp_path), tmp_path) - LAKE_DATABASE - {"main.R"}
    ends = (".done", "")
    # Its failed load distrusted the files it came from.
    separate = ["tmp/g/g.a.decompressed", "tmp/g/g.a.noheader", "tmp/g/g.a.csv"]
    expected = {
        f"{path}{end}"
        for path in [
            "tmp/g/g.a.download",
            "lake/g/a/a.parquet",
            *([] if fuse else [*separate, "lake/_staging/g/a.csv"]),
        ]
        for end in ends
    }
    assert {name for name in made if "/g.b." in name or "/b" in name} == set()
    assert made <= expected and "lake/g/a/a.parquet" in made, made
    assert rows(tmp_path, "g.a") == rows(tmp_path, "g.b") == EDGE_ROWS

    # Changing the header count of a source that was right reruns that asset only, from
    # the step that removes the header: its first data row goes too (and is reported).
    before = mtimes(tmp_path)
    proc = run_r(r_program(scripted.base, {"a": two, "b": two}, fuse), tmp_path, env=KEEP)
    assert "1 of the 2 header line(s) removed read as data rows" in proc.stderr
    made = changed(before, mtimes(tmp_path), tmp_path) - LAKE_DATABASE - {"main.R"}
    separate = ["tmp/g/g.b.noheader", "tmp/g/g.b.csv", "lake/_staging/g/b.csv"]
    assert made == {
        f"{path}{end}"
        for path in ["lake/g/b/b.parquet", *([] if fuse else separate)]
        for end in ends
    }, made
    assert rows(tmp_path, "g.b") == EDGE_ROWS[1:]
    assert rows(tmp_path, "g.a") == EDGE_ROWS


# ---------------------------------------------------------------------- the lake lock


def test_two_runs_on_one_lake(scripted, tmp_path) -> None:
    """Started together: the only failure is the lock's, the rows are right."""
    scripted.serve("/a", gzip.compress(TSV))
    scripted.serve("/b", TSV)
    code = r_program(scripted.base, {"a": GZ, "b": TSVEncoding()})
    locked = 0
    for round_ in range(8):
        cwd = tmp_path / f"round{round_}"
        cwd.mkdir()
        (cwd / "main.R").write_text(code, encoding="utf-8")
        procs = [start_r(cwd) for _ in range(2)]
        results = [(p.wait(timeout=TIMEOUT), *p.communicate()) for p in procs]
        for status, _out, err in results:
            if status != 0:
                assert "the lake lake is in use by" in err, err
                assert "wait for that run to finish, or delete lake/.lock" in err, err
                assert "running " not in err, err
                locked += 1
        assert any(status == 0 for status, _, _ in results), results
        assert lake_tables(cwd) == {"g.a": len(EDGES), "g.b": len(EDGES)}
        assert not list(cwd.rglob("*.part")) and not (cwd / "lake" / ".lock").exists()
    # The lock was contended at least once (else this test proved nothing).
    assert locked > 0


def test_a_dead_runs_lock_is_taken_over_and_a_live_one_is_not(scripted, tmp_path) -> None:
    scripted.serve("/edges", TSV)
    code = r_program(scripted.base, {"edges": TSVEncoding()})
    lock = tmp_path / "lake" / ".lock"
    lock.mkdir(parents=True)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (lock / "owner").write_text(f"{dead.stdout.strip()} {socket.gethostname()} then\n")
    proc = run_r(code, tmp_path)
    assert "took over the lock of a run that died" in proc.stderr
    assert not lock.exists()

    # A live process holds it (this one, as a Python program would): R waits its turn.
    lock.mkdir()
    (lock / "owner").write_text(f"{os.getpid()} {socket.gethostname()} now\n")
    proc = run_r(code, tmp_path, expect_ok=False)
    assert f"is in use by {os.getpid()} {socket.gethostname()} now" in proc.stderr
    assert lock.exists() and (lock / "owner").read_text().startswith(str(os.getpid()))
    # Another host's lock is never taken over: its process cannot be seen from here.
    (lock / "owner").write_text(f"{dead.stdout.strip()} elsewhere.example now\n")
    proc = run_r(code, tmp_path, expect_ok=False)
    assert "is in use by" in proc.stderr and lock.exists()


def test_python_and_r_programs_exclude_each_other(scripted, tmp_path) -> None:
    """The R script holds the same lock a Python program does: one waits for the other."""
    release = scripted_slow(scripted, "/edges", TSV)
    sources = {"edges": TSVEncoding()}
    r_code = r_program(scripted.base, sources)
    (tmp_path / "main.R").write_text(r_code, encoding="utf-8")
    slow = start_r(tmp_path)
    try:
        wait_for(lambda: (tmp_path / "lake" / ".lock" / "owner").exists())
        python = run_generated(
            dag(universe(scripted.base, sources), ["AllAssetsComputed"]), tmp_path, expect_ok=False
        )
        assert f"the lake lake is in use by {slow.pid} " in python.stderr
    finally:
        release()
    _, err = slow.communicate(timeout=TIMEOUT)
    assert slow.returncode == 0, err
    assert rows(tmp_path, "g.edges") == EDGE_ROWS
    # And the other way round: once the R run is over, Python runs on the same lake.
    run_generated(dag(universe(scripted.base, sources), ["AllAssetsComputed"]), tmp_path)


def test_an_interrupted_run_releases_the_lock_and_leaves_no_part(scripted, tmp_path) -> None:
    release = scripted_slow(scripted, "/edges", TSV)
    code = r_program(scripted.base, {"edges": TSVEncoding()})
    (tmp_path / "main.R").write_text(code, encoding="utf-8")
    proc = start_r(tmp_path)
    try:
        # The download has started (its part exists): interrupt it.
        wait_for(lambda: list(tmp_path.rglob("*.part")))
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=TIMEOUT)
        assert proc.returncode != 0
    finally:
        release()
    assert not (tmp_path / "lake" / ".lock").exists()
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob("*.done"))
    run_r(code, tmp_path)
    assert rows(tmp_path, "g.edges") == EDGE_ROWS


def scripted_slow(server, path: str, body: bytes):
    """Serve body at path, holding the response back until the returned function runs."""
    import threading

    gate = threading.Event()

    def route(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[:2])
        handler.wfile.flush()
        gate.wait(timeout=TIMEOUT)
        handler.wfile.write(body[2:])

    server.routes[path] = route
    return gate.set


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# ------------------------------------------------ R and Bash recipes in Python programs


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "separate"])
def test_r_recipes_in_a_python_program_keep_the_protocol(scripted, tmp_path, fuse) -> None:
    """With R recipes preferred, a Python program runs them with their helpers (run_r)."""
    scripted.serve("/good", gzip.compress(TSV))
    scripted.serve("/bad", b"1\t2\n3\t3.5\n")
    sources = {"good": GZ, "bad": TSVEncoding()}
    code = dag(
        universe(scripted.base, sources),
        ["AllAssetsComputed"],
        "python",
        preferences=["r", "sql", "python"],
        fuse=fuse,
    )
    assert "run_r(" in code and "def convert_to_target" not in code
    assert "def load_source" not in code and ("load_source <- function" in code) == fuse
    out = output_of(run_generated(code, tmp_path, expect_ok=False))
    step = "source_loaded" if fuse else "converted_to_target_encoding"
    assert f"FAILED bad_{step}" in out
    assert "g.bad: column \"to_id\", line 2: '3.5' is not a whole number (BIGINT)" in out
    assert lake_tables(tmp_path) == {"g.good": len(EDGES)}
    assert staging_views(tmp_path) == []
    assert (
        (tmp_path / "tmp" / "g" / "g.good.download.done")
        .read_text()
        .split("\n")[2]
        .startswith("sha256 ")
    )

    scripted.serve("/bad", TSV)
    run_generated(code, tmp_path)
    assert rows(tmp_path, "g.bad") == rows(tmp_path, "g.good") == EDGE_ROWS
    before = mtimes(tmp_path)
    run_generated(code, tmp_path)
    assert changed(before, mtimes(tmp_path), tmp_path) <= LAKE_DATABASE | {"main.py"}


def test_bash_recipes_in_a_python_program_keep_the_protocol(scripted, tmp_path) -> None:
    body = b"from\tto\n" + TSV
    scripted.serve("/a", gzip.compress(body))
    scripted.serve("/b", gzip.compress(body))
    one = TSVEncoding(compression=GZ.compression, header=CSVHeader(num_lines=1))
    preferences = {"*": ["python", "sql"], "Decompressed": ["bash"], "HeaderRemoved": ["bash"]}

    def program(sources):
        return dag(
            universe(scripted.base, sources),
            ["AllAssetsComputed"],
            "python",
            preferences=preferences,
        )

    code = program({"a": one, "b": one})
    assert "run_bash(" in code and "def decompress(" not in code
    run_generated(code, tmp_path, env=KEEP)
    assert rows(tmp_path, "g.a") == rows(tmp_path, "g.b") == EDGE_ROWS
    decompressed = tmp_path / "tmp" / "g" / "g.a.decompressed"
    assert decompressed.with_name(decompressed.name + ".done").read_text().split("\n")[1] == (
        "tmp/g/g.a.download"
    )
    before = mtimes(tmp_path)
    run_generated(code, tmp_path, env=KEEP)
    assert changed(before, mtimes(tmp_path), tmp_path) <= LAKE_DATABASE | {"main.py"}

    # Two header lines declared for b: Bash's remove_header reruns for b, and every step
    # after it; nothing of a's.
    two = TSVEncoding(compression=GZ.compression, header=CSVHeader(num_lines=2))
    run_generated(program({"a": one, "b": two}), tmp_path, env=KEEP)
    made = changed(before, mtimes(tmp_path), tmp_path) - LAKE_DATABASE - {"main.py"}
    assert {"tmp/g/g.b.noheader", "tmp/g/g.b.noheader.done", "lake/g/b/b.parquet"} <= made
    assert all("g.b." in name or "/b" in name for name in made), made
    assert rows(tmp_path, "g.b") == EDGE_ROWS[1:] and rows(tmp_path, "g.a") == EDGE_ROWS
