"""A rerun asks every source whether it changed, and recomputes exactly what did.

The generated program keeps, beside each download, what the server said of it (ETag,
Last-Modified; size and modification time for a local file). A rerun sends them in a
conditional request: "not modified" skips the download and everything after it; a new
body with the same sha256 is dropped, and nothing after it reruns either; a changed
body replaces the download, and its chain reruns through the step keys. A server that
sends no validator is asked again each run, and its body compared by hash.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_derived import graph_universe, serve_graphs
from test_r_dialect import run_r
from test_trust import EDGES, TSV, Scripted
from test_trust import universe as trust_universe

from aorist import CSVHeader, TSVEncoding, dag

from conftest import dry_run, dry_run_states, lake_query, output_of, run_generated, touch_later

TESTS = Path(__file__).resolve().parent

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


def up_to_date(dialect: str, url: str, why: str) -> str:
    """The line saying a download was skipped: the task's own line in a python program."""
    if dialect == "r":
        return f"download {url}: up to date ({why})"
    return f"skipped {url.rsplit('/', 1)[1]}_downloaded: up to date ({why})"


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
    # Each step's version and outcome are in the lake: a publishing step's written as
    # it published (an R script records those), the others' as the run ends.
    steps = "SELECT task, outcome, version FROM _aorist.steps ORDER BY 1"
    published = "SELECT version FROM _aorist.published ORDER BY table_name"
    loaded = "SELECT version FROM _aorist.steps WHERE outcome = 'published' ORDER BY task"
    recorded = lake_query(tmp_path, steps)
    made = [("a_downloaded", "made"), ("b_downloaded", "made")]
    assert [(task, outcome) for task, outcome, _ in recorded] == [
        *made[:1],
        ("a_source_loaded", "published"),
        *made[1:],
        ("b_source_loaded", "published"),
    ]
    assert lake_query(tmp_path, loaded) == lake_query(tmp_path, published)

    # Nothing changed: each source is asked, answers "not modified", nothing is fetched.
    http_server.clear_requests()
    out = run(dialect, code, tmp_path)
    assert sorted(http_server.requests) == ["/a", "/b"] and http_server.fetched == []
    assert up_to_date(dialect, f"{http_server.base_url}/a", "not modified") in out, out
    # Each step whose outputs are all up to date says so in one line.
    assert "skipped a_source_loaded: up to date" in out, out
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
    # a's steps have new versions; b's rows are as they were.
    now = lake_query(tmp_path, steps)
    assert [row for row in now if row[0].startswith("b_")] == [
        row for row in recorded if row[0].startswith("b_")
    ]
    assert not {row for row in now if row[0].startswith("a_")} & set(recorded)
    assert lake_query(tmp_path, loaded) == lake_query(tmp_path, published)

    # The same bytes again, with a new Last-Modified: fetched, found identical, and
    # nothing after the download reruns.
    before = mtimes(tmp_path)
    touch_later(http_server.root / "a")
    http_server.clear_requests()
    out = run(dialect, code, tmp_path)
    assert http_server.fetched == ["/a"]
    assert up_to_date(dialect, f"{http_server.base_url}/a", "same sha256") in out, out
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
        assert up_to_date(dialect, f"{server.base}/a", "same sha256") in out, out
        assert changed(before, mtimes(tmp_path)) == set()

        server.serve("/a", NEW)
        out = run(dialect, code, tmp_path)
        assert f"download {server.base}/a: changed upstream" in out, out
        assert changed(before, mtimes(tmp_path)) == {"tmp/g/g.a.download", "lake/g/a/a.parquet"}
        assert rows(tmp_path, "g.a") == sorted((a * 10, b * 10) for a, b in EDGES)
    finally:
        server.shutdown()
        server.server_close()


def status(universe_file: Path, cwd: Path) -> tuple[int, dict[str, str], str]:
    """`aorist status` run where the program runs: its exit status and lines."""
    proc = subprocess.run(
        [sys.executable, "-m", "aorist", "status", str(universe_file)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = proc.stdout + proc.stderr
    return proc.returncode, dry_run_states(out), out


def test_status_names_what_is_missing_fresh_and_stale_and_why(http_server, tmp_path):
    """`aorist status` before a run, after it, and after one source changed; then a run
    makes exactly the stale steps, and skips the others in one line each."""
    serve_graphs(http_server.root)
    declaration = tmp_path / "graphs.py"
    declaration.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(TESTS)!r})\n"
        "from test_derived import graph_universe\n"
        f"universe = graph_universe({http_server.base_url!r})\n",
        encoding="utf-8",
    )
    work = tmp_path / "work"
    work.mkdir()
    code, states, out = status(declaration, work)
    assert code == 1, out
    assert states and set(states.values()) == {"missing"}, out
    assert not (work / "lake").exists() and not (work / "tmp").exists(), "a dry run made files"

    program = dag(graph_universe(http_server.base_url), ["AllAssetsComputed"], "python")
    run_generated(program, work)
    code, states, out = status(declaration, work)
    assert code == 0, out
    assert set(states.values()) == {"fresh"}, out
    assert out.strip().endswith(f"up to date: {len(states)} fresh, 0 stale, 0 missing"), out

    # measures changes upstream: its chain and the table joining it are stale, and say why.
    (http_server.root / "measures.csv").write_text(
        "node,weight,size\n1,9.5,2.0\n2,1.5,4.0\n3,2.5,6.5\n4,3.5,7.0\n", encoding="utf-8"
    )
    touch_later(http_server.root / "measures.csv")
    code, states, out = status(declaration, work)
    assert code == 1, out
    stale = {task: state for task, state in states.items() if state != "fresh"}
    assert stale["measures_downloaded"] == "stale (source changed upstream)", out
    assert stale["measures_source_loaded"] == "stale (upstream measures_downloaded changed)"
    assert stale.get("hub_measures_query_computed", "").startswith("stale (upstream "), out
    assert states.get("edges_downloaded") == "fresh", out
    assert states.get("degrees_query_computed") == "fresh", out
    assert not [task for task in stale if task.startswith(("edges", "degrees", "hubs"))], out

    # The run makes what was stale and skips each fresh step in one line.
    before = mtimes(work)
    out = output_of(run_generated(program, work))
    assert "skipped edges_downloaded: up to date (not modified)" in out, out
    assert "skipped degrees_converted_to_target_encoding: up to date" in out, out
    assert changed(before, mtimes(work)) == {
        "tmp/nodes/nodes.measures.download",
        "lake/nodes/measures/measures.parquet",
        "lake/derived/hub_measures/hub_measures.parquet",
    }
    assert lake_query(work, "SELECT * FROM nodes.hub_measures") == [(1, 9.5)]
    code, states, out = status(declaration, work)
    assert code == 0, out


def test_a_changed_recipe_or_parameter_reruns_exactly_the_steps_it_changes(http_server, tmp_path):
    for name in ("a", "b"):
        (http_server.root / name).write_bytes(TSV)
    sources = {"a": TSVEncoding(), "b": TSVEncoding()}
    code = dag(trust_universe(http_server.base_url, sources), ["AllAssetsComputed"], "python")
    run_generated(code, tmp_path)
    before = mtimes(tmp_path)

    # A new version of the loading recipe (as a new aorist would generate): both
    # tables are loaded again, and nothing is downloaded.
    changed_code = code.replace("def load_source(", "def load_source(  # version 2\n", 1)
    assert changed_code != code
    dry = run_generated(changed_code, tmp_path, expect_ok=False, args=["--dry-run"])
    states = dry_run_states(output_of(dry))
    assert states["a_source_loaded"] == "stale (recipe code changed)", output_of(dry)
    assert states["a_downloaded"] == "fresh"
    http_server.clear_requests()
    out = output_of(run_generated(changed_code, tmp_path))
    assert http_server.fetched == [], out
    assert changed(before, mtimes(tmp_path)) == {"lake/g/a/a.parquet", "lake/g/b/b.parquet"}

    # One header line for a only: a's table is loaded again without its first row.
    before = mtimes(tmp_path)
    sources["a"] = TSVEncoding(header=CSVHeader(num_lines=1))
    regenerated = dag(
        trust_universe(http_server.base_url, sources), ["AllAssetsComputed"], "python"
    ).replace("def load_source(", "def load_source(  # version 2\n", 1)
    dry = run_generated(regenerated, tmp_path, expect_ok=False, args=["--dry-run"])
    states = dry_run_states(output_of(dry))
    assert states["a_source_loaded"] == "stale (parameters changed)", output_of(dry)
    assert states["b_source_loaded"] == "fresh", output_of(dry)
    run_generated(regenerated, tmp_path)
    assert changed(before, mtimes(tmp_path)) == {"lake/g/a/a.parquet"}
    assert rows(tmp_path, "g.a") == sorted(EDGES[1:])


def test_removed_temporary_copies_are_made_again_only_for_a_step_that_reads_them(
    http_server, tmp_path
):
    """The separate steps' temporary copies (header-less, staged, computed) are removed
    after use: a rerun finds them fresh from their kept markers and makes none of them,
    until a step that is not fresh reads one; then it and what it came from are made
    again, and removed again after use."""
    serve_graphs(http_server.root)
    program = dag(graph_universe(http_server.base_url), ["AllAssetsComputed"], "python", fuse=False)
    run_generated(program, tmp_path)
    tables = {
        table: lake_query(tmp_path, f"SELECT * FROM {table} ORDER BY ALL")
        for table in ("graphs.edges", "graphs.hub_count", "nodes.hub_measures")
    }
    before = mtimes(tmp_path)
    staged = tmp_path / "lake" / "_staging"
    assert sorted(p.name for p in staged.rglob("*.removed"))
    assert not [p for p in staged.rglob("*") if p.is_file() and p.suffix != ".removed"]

    out = output_of(run_generated(program, tmp_path))
    assert "skipped edges_header_removed: up to date (removed after use)" in out, out
    assert "skipped edges_stored_in_lake: up to date (removed after use)" in out, out
    assert "skipped degrees_query_computed: up to date (removed after use)" in out, out
    assert "skipped degrees_temporary_table_created: up to date (what it reads was " in out
    assert "skipped edges_temporary_files_removed: up to date (nothing left to remove)" in out
    assert "making " not in out and "\nremoved " not in out, out
    assert changed(before, mtimes(tmp_path)) == set()
    assert not (tmp_path / "tmp" / "graphs" / "graphs.edges.noheader").exists()

    # A new version of the conversion reads every staged copy: each is made again,
    # from the header-less copy made again before it, then all are removed.
    changed_code = program.replace(
        "def convert_to_target(", "def convert_to_target(  # version 2\n", 1
    )
    assert changed_code != program
    out = output_of(run_generated(changed_code, tmp_path))
    assert (
        "making lake/_staging/graphs/edges.csv again for edges_converted_to_target_encoding" in out
    ), out
    assert "making tmp/graphs/graphs.edges.noheader again for edges_stored_in_lake" in out
    # A derived table's computation reads the new conversion's file: it is made anew.
    assert "skipped hubs_query_computed" not in out and "running hubs_query_computed" in out
    assert "removed tmp/graphs/graphs.edges.noheader, lake/_staging/graphs/edges.csv" in out
    assert not [p for p in staged.rglob("*") if p.is_file() and p.suffix != ".removed"]
    for table, expected in tables.items():
        assert lake_query(tmp_path, f"SELECT * FROM {table} ORDER BY ALL") == expected
    made = lake_query(
        tmp_path,
        "SELECT task FROM _aorist.steps WHERE outcome = 'made' AND task LIKE 'edges%' ORDER BY 1",
    )
    assert ("edges_header_removed",) in made and ("edges_stored_in_lake",) in made

    # Up to date again: nothing is made, and a dry run finds every step fresh.
    before = mtimes(tmp_path)
    out = output_of(run_generated(changed_code, tmp_path))
    assert "making " not in out and changed(before, mtimes(tmp_path)) == set(), out
    dry = output_of(run_generated(changed_code, tmp_path, args=["--dry-run"]))
    assert dry.strip().endswith(" 0 stale, 0 missing"), dry


def test_a_kill_during_republish_leaves_the_old_table_whole(http_server, tmp_path):
    """Killed at several points while a changed source is loaded and published, the
    program leaves the old rows or the new ones, never a mix or no table; a rerun
    completes the new one."""
    old = [(i, i + 1) for i in range(1_000_000)]
    new = [(i, i + 2) for i in range(1_000_000)]
    source = http_server.root / "a"
    source.write_bytes(b"".join(b"%d\t%d\n" % row for row in old))
    code = dag(
        trust_universe(http_server.base_url, {"a": TSVEncoding()}), ["AllAssetsComputed"], "python"
    )
    run_generated(code, tmp_path)
    (tmp_path / "main.py").write_text(code, encoding="utf-8")
    source.write_bytes(b"".join(b"%d\t%d\n" % row for row in new))
    touch_later(source)
    expected = {
        "old": (len(old), sum(b for _, b in old)),
        "new": (len(new), sum(b for _, b in new)),
    }
    seen, kills = set(), 0
    # Kills 50 ms apart over the whole run (start, download, load, publish), until a
    # run is let finish.
    for step in range(1, 200):
        delay = 0.05 * step
        proc = subprocess.Popen(
            [sys.executable, "main.py"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            kills += 1
        found = lake_query(tmp_path, "SELECT count(*), sum(to_id) FROM g.a")[0]
        assert found in expected.values(), (delay, found)
        seen.add("new" if found == expected["new"] else "old")
        if proc.returncode == 0:
            break
    # Kills landed before the new table was published, and the last run finished.
    assert kills >= 3 and "old" in seen and proc.returncode == 0, (kills, seen)
    out = output_of(run_generated(code, tmp_path))
    assert "skipped a_source_loaded: up to date" in out, out
    assert lake_query(tmp_path, "SELECT count(*), sum(to_id) FROM g.a")[0] == expected["new"]
    leftovers = [p.name for p in tmp_path.rglob("*.part")]
    assert leftovers == [], leftovers


def test_a_lake_made_by_the_r_script_is_stale_for_the_python_program(http_server, tmp_path):
    """`aorist status` speaks of the python program: the R script's recipes are other
    code, so what it made is stale there, and says by whom."""
    for name in ("a", "b"):
        (http_server.root / name).write_bytes(TSV)
    universe = trust_universe(http_server.base_url, {"a": TSVEncoding(), "b": TSVEncoding()})
    run("r", dag(universe, ["AllAssetsComputed"], "r"), tmp_path)
    program = dag(universe, ["AllAssetsComputed"], "python")
    states, out = dry_run(program, tmp_path, False)
    assert states["a_downloaded"] == "stale (made by another program)", out
    assert states["b_source_loaded"] == "stale (upstream b_downloaded changed)", out
    assert out.strip().endswith(f"0 fresh, {len(states)} stale, 0 missing"), out
    # The python program makes them its own; then they are fresh for it.
    run_generated(program, tmp_path)
    states, out = dry_run(program, tmp_path, True)
    assert set(states.values()) == {"fresh"}, out
    assert rows(tmp_path, "g.a") == sorted(EDGES)
