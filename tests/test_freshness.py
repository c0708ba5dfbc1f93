"""A rerun asks every source whether it changed, and recomputes exactly what did.

The generated program keeps, beside each download, what the server said of it (ETag,
Last-Modified; size and modification time for a local file). A rerun sends them in a
conditional request: "not modified" skips the download and everything after it; a new
body with the same sha256 is dropped, and nothing after it reruns either; a changed
body replaces the download, and its chain reruns through the step keys. A server that
sends no validator is asked again each run, and its body compared by hash.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_r_dialect import run_r
from test_trust import EDGES, TSV, Scripted
from test_trust import universe as trust_universe

from aorist import TSVEncoding, dag

from conftest import lake_query, output_of, run_generated

NEW = b"".join(b"%d\t%d\n" % (a * 10, b * 10) for a, b in EDGES)


def mtimes(cwd: Path) -> dict[str, int]:
    """Modification times of the lake's table files and the downloads, by name."""
    return {
        p.relative_to(cwd).as_posix(): p.stat().st_mtime_ns
        for p in cwd.rglob("*")
        if p.is_file() and p.suffix in (".parquet", ".download")
    }


def changed(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {name for name in after if before.get(name) != after[name]}


def rows(cwd: Path, table: str) -> list[tuple]:
    return lake_query(cwd, f"SELECT * FROM {table} ORDER BY ALL")


def touch_later(path: Path) -> None:
    """A new modification time, a few seconds on: HTTP dates count whole seconds."""
    later = path.stat().st_mtime + 5
    os.utime(path, (later, later))


def run(dialect: str, code: str, cwd: Path) -> str:
    if dialect == "r":
        proc = run_r(code, cwd)
        return proc.stdout + proc.stderr
    return output_of(run_generated(code, cwd))


@pytest.mark.parametrize("dialect", ["python", "r"])
def test_a_changed_source_reruns_its_chain_and_nothing_else(http_server, tmp_path, dialect):
    for name in ("a", "b"):
        (http_server.root / name).write_bytes(TSV)
    code = dag(
        trust_universe(http_server.base_url, {"a": TSVEncoding(), "b": TSVEncoding()}),
        ["AllAssetsComputed"],
        dialect,
    )
    run(dialect, code, tmp_path)
    before = mtimes(tmp_path)

    # Nothing changed: each source is asked, answers "not modified", nothing is fetched.
    http_server.clear_requests()
    out = run(dialect, code, tmp_path)
    assert sorted(http_server.requests) == ["/a", "/b"] and http_server.fetched == []
    assert f"download {http_server.base_url}/a: up to date (not modified)" in out, out
    assert changed(before, mtimes(tmp_path)) == set()

    # a changes upstream: its download and table are made again, b's are not.
    (http_server.root / "a").write_bytes(NEW)
    touch_later(http_server.root / "a")
    http_server.clear_requests()
    out = run(dialect, code, tmp_path)
    assert f"download {http_server.base_url}/a: changed upstream" in out, out
    assert http_server.fetched == ["/a"]
    assert changed(before, mtimes(tmp_path)) == {"tmp/g/g.a.download", "lake/g/a/a.parquet"}
    assert rows(tmp_path, "g.a") == sorted((a * 10, b * 10) for a, b in EDGES)
    assert rows(tmp_path, "g.b") == sorted(EDGES)

    # The same bytes again, with a new Last-Modified: fetched, found identical, and
    # nothing after the download reruns.
    before = mtimes(tmp_path)
    touch_later(http_server.root / "a")
    http_server.clear_requests()
    out = run(dialect, code, tmp_path)
    assert http_server.fetched == ["/a"]
    assert f"download {http_server.base_url}/a: up to date (same sha256)" in out, out
    assert changed(before, mtimes(tmp_path)) == set()


@pytest.mark.parametrize("dialect", ["python", "r"])
def test_a_source_without_validators_is_compared_by_hash(tmp_path, dialect):
    server = Scripted()
    try:
        server.serve("/a", TSV)
        code = dag(
            trust_universe(server.base, {"a": TSVEncoding()}), ["AllAssetsComputed"], dialect
        )
        run(dialect, code, tmp_path)
        before = mtimes(tmp_path)
        out = run(dialect, code, tmp_path)
        assert f"download {server.base}/a: up to date (same sha256)" in out, out
        assert changed(before, mtimes(tmp_path)) == set()

        server.serve("/a", NEW)
        out = run(dialect, code, tmp_path)
        assert f"download {server.base}/a: changed upstream" in out, out
        assert changed(before, mtimes(tmp_path)) == {"tmp/g/g.a.download", "lake/g/a/a.parquet"}
        assert rows(tmp_path, "g.a") == sorted((a * 10, b * 10) for a, b in EDGES)
    finally:
        server.shutdown()
        server.server_close()
