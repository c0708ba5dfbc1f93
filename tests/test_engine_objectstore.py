"""The object-store engine end to end: programs generated for a universe with a
`minio=MinioConfig(...)` endpoint run against SeaweedFS (which checks credentials), in
the python and airflow dialects.

Each test writes to a bucket of its own. Tables are read back from the bucket and
compared with what the served data says, computed here independently.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import onnxruntime
import pyarrow
import pyarrow.orc
import pyarrow.parquet
import pytest
from test_derived import EDGES, MEASURES, graph_universe, reference, serve_graphs, wine_example

from aorist import (
    CSVEncoding,
    EndpointConfig,
    HiveTableStorage,
    MinioConfig,
    MinioLocation,
    ORCEncoding,
    ParquetEncoding,
    Universe,
    dag,
)

from conftest import _minimal_env, airflow, dry_run, engine_steps_skipped, output_of, touch_later
from fixtures_data import snap_dataset, snap_like_edges, snap_like_gz

DATA_SUFFIXES = (".csv", ".parquet", ".orc", ".onnx", ".download", ".gz", ".tsv", ".txt")


@pytest.fixture
def bucket(s3_server):
    """The server, with a bucket no other test writes to."""
    name = "t" + uuid.uuid4().hex[:12]
    s3_server.filesystem(allow_bucket_creation=True).create_dir(name)
    return dataclasses.replace(s3_server, bucket=name)


def endpoints(store) -> EndpointConfig:
    return EndpointConfig(
        minio=MinioConfig(
            server=store.host,
            port=store.port,
            bucket=store.bucket,
            access_key_env=store.access_key_env,
            secret_key_env=store.secret_key_env,
        )
    )


def hive(name: str, encoding=None) -> HiveTableStorage:
    return HiveTableStorage(
        location=MinioLocation(name=name), encoding=encoding or ParquetEncoding()
    )


def on_the_store(universe: Universe, store, encoding=None) -> Universe:
    """The universe with every remote asset replicated into the bucket."""
    datasets = [
        d.replicate_to_local(hive(d.name, encoding), f"tmp/{d.name}", CSVEncoding())
        for d in universe.datasets
    ]
    return Universe(name=universe.name, datasets=datasets, endpoints=endpoints(store))


def table(store, key: str) -> list[tuple]:
    data = store.read(key)
    if key.endswith(".orc"):
        read = pyarrow.orc.ORCFile(io.BytesIO(data)).read()
    else:
        read = pyarrow.parquet.read_table(io.BytesIO(data))
    return list(zip(*read.to_pydict().values(), strict=True)) if read.num_columns else []


def snapshot(store) -> dict[str, bytes]:
    return {key: store.read(key) for key in store.keys()}


def step_records(store) -> dict[str, dict]:
    """The program's record of each step (version, outcome), an object per step."""
    records = [
        json.loads(text)
        for key, text in snapshot(store).items()
        if key.startswith("_aorist/steps/")
    ]
    return {record["task"]: record for record in records}


def data_files(root: Path) -> list[str]:
    """Files under `root` that hold data (the run's working directory must have none)."""
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and (path.suffix in DATA_SUFFIXES or ".part" in path.name)
    )


def run(code: str, cwd: Path, store, expect_ok: bool = True) -> subprocess.CompletedProcess:
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "main.py").write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "main.py"],
        cwd=cwd,
        env={**_minimal_env(), **store.env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    report = f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    assert (proc.returncode == 0) == expect_ok, report
    return proc


def assert_no_secret(code: str, store) -> None:
    assert store.secret_key not in code and store.access_key not in code
    assert store.secret_key_env in code and store.access_key_env in code


# ------------------------------------------------------------------------------ SNAP-like


def snap_universe(http_server, store, encoding) -> tuple[Universe, dict[str, list]]:
    names = ["ca-GrQc", "ca-HepTh"]
    edges = {}
    for number, name in enumerate(names):
        snap_like_gz(http_server.root / f"{name}.txt.gz", 300 + 50 * number, seed=number)
        edges[name.lower().replace("-", "_")] = snap_like_edges(300 + 50 * number, seed=number)
    dataset = snap_dataset(http_server.base_url, names, target=hive("snap", encoding))
    universe = Universe(name="my_cluster", datasets=[dataset], endpoints=endpoints(store))
    return universe, edges


@pytest.mark.parametrize("encoding", ["orc", "parquet"])
def test_snap_replication_in_a_python_script(http_server, bucket, tmp_path, encoding) -> None:
    target = ORCEncoding() if encoding == "orc" else ParquetEncoding()
    universe, edges = snap_universe(http_server, bucket, target)
    code = dag(universe, ["AllAssetsComputed"], "python")
    assert_no_secret(code, bucket)
    proc = run(code, tmp_path, bucket)
    for name, rows in edges.items():
        assert table(bucket, f"snap/{name}/{name}.{encoding}") == [tuple(r) for r in rows]
        assert f"snap.{name}: {len(rows)} rows, columns from_id, to_id" in proc.stdout
    assert data_files(tmp_path) == []
    assert not [k for k in bucket.keys() if k.startswith("_tmp/")]
    # Of each table's temporary objects only the download (the rerun's cache) stays,
    # and the markers of the removed ones (X.removed, for a dry run).
    kept = bucket.keys("tmp/snap")
    assert kept and all(".download" in key or key.endswith(".removed") for key in kept), kept
    assert all(key.endswith(".removed") for key in bucket.keys("_staging/snap"))
    # Each step that made something recorded its version and outcome in the bucket.
    records = step_records(bucket)
    assert records["ca_grqc_downloaded"]["outcome"] == "made", records
    assert records["ca_grqc_table_published"]["outcome"] == "published", records
    assert {record["outcome"] for record in records.values()} == {"made", "published"}
    assert len({record["version"] for record in records.values()}) == len(records)
    before = snapshot(bucket)
    again = run(code, tmp_path, bucket).stdout
    assert snapshot(bucket) == before
    # The steps on the bucket find their objects up to date, and say so.
    assert engine_steps_skipped(again), again

    # One source changes upstream: its objects are made again, the other's are not.
    changed = snap_like_edges(333, seed=7)
    snap_like_gz(http_server.root / "ca-GrQc.txt.gz", 333, seed=7)
    later = (http_server.root / "ca-GrQc.txt.gz").stat().st_mtime + 5
    os.utime(http_server.root / "ca-GrQc.txt.gz", (later, later))
    out = run(code, tmp_path, bucket).stdout
    assert "ca-GrQc.txt.gz: changed upstream" in out and "up to date (not modified)" in out
    after = snapshot(bucket)
    moved = {key for key in after if before.get(key) != after[key]}
    assert moved and all("ca_grqc" in key for key in moved), moved
    # Only ca-GrQc's steps were recorded again, with new versions.
    now = step_records(bucket)
    again_made = {task for task in now if now[task] != records.get(task)}
    assert {"ca_grqc_downloaded", "ca_grqc_table_published"} <= again_made, again_made
    assert all(task.startswith("ca_grqc") for task in again_made), again_made
    assert table(bucket, f"snap/ca_grqc/ca_grqc.{encoding}") == [tuple(r) for r in changed]
    assert table(bucket, f"snap/ca_hepth/ca_hepth.{encoding}") == [
        tuple(r) for r in edges["ca_hepth"]
    ]


def test_a_dry_run_on_the_object_store_says_what_is_missing_fresh_and_stale(
    http_server, bucket, tmp_path
) -> None:
    """The program's `--dry-run` on the bucket: before a run, after it, after a source
    changed and after a recipe changed; the bucket never changes meanwhile."""
    universe, _ = snap_universe(http_server, bucket, ParquetEncoding())
    code = dag(universe, ["AllAssetsComputed"], "python")
    empty = snapshot(bucket)
    states, out = dry_run(code, tmp_path, False, bucket.env)
    assert states["ca_grqc_downloaded"] == "missing", out
    assert states["ca_grqc_table_published"] == "missing", out
    assert snapshot(bucket) == empty

    run(code, tmp_path, bucket)
    before = snapshot(bucket)
    states, out = dry_run(code, tmp_path, True, bucket.env)
    assert set(states.values()) == {"fresh"}, out
    assert out.strip().endswith(f"up to date: {len(states)} fresh, 0 stale, 0 missing"), out

    # ca-GrQc changes upstream: its chain is stale, ca-HepTh's is not.
    snap_like_gz(http_server.root / "ca-GrQc.txt.gz", 320, seed=7)
    touch_later(http_server.root / "ca-GrQc.txt.gz")
    states, out = dry_run(code, tmp_path, False, bucket.env)
    assert states["ca_grqc_downloaded"] == "stale (source changed upstream)", out
    assert states["ca_grqc_stored_in_lake"].startswith("stale (upstream ca_grqc_"), out
    assert states["ca_grqc_table_published"].startswith("stale (upstream ca_grqc_"), out
    assert not [t for t, s in states.items() if t.startswith("ca_hepth") and s != "fresh"]
    assert snapshot(bucket) == before

    # A new version of the staging recipe: both tables' chains are stale from there.
    changed = code.replace("def objectstore_store(", "def objectstore_store(  # version 2\n", 1)
    assert changed != code
    states, out = dry_run(changed, tmp_path, False, bucket.env)
    assert states.get("ca_hepth_stored_in_lake") == (
        "stale (its version differs: recipe code or parameters changed)"
    ), out
    assert states["ca_hepth_table_published"].startswith("stale (upstream ca_hepth_"), out
    assert states["ca_hepth_downloaded"] == "fresh", out
    assert snapshot(bucket) == before

    # The run makes what was stale; then everything is fresh.
    out = run(changed, tmp_path, bucket).stdout
    # ca-HepTh's copies, removed after the first run, were not made again until the
    # changed step read them; then each was, from its download, in order.
    assert "skipped ca_hepth_converted_to_csv: up to date (removed after use)" in out, out
    again = [line for line in out.splitlines() if line.startswith("making ")]
    assert again == [
        f"making tmp/snap/snap.ca_hepth.{name} again for ca_hepth_{step}"
        for name, step in [
            ("csv", "stored_in_lake"),
            ("noheader", "converted_to_csv"),
            ("decompressed", "header_removed"),
        ]
    ], out
    assert table(bucket, "snap/ca_hepth/ca_hepth.parquet") == [
        tuple(r) for r in snap_like_edges(350, seed=1)
    ]
    states, out = dry_run(changed, tmp_path, True, bucket.env)
    assert set(states.values()) == {"fresh"}, out


def test_a_kill_mid_publish_then_rerun_leaves_each_row_once(http_server, bucket, tmp_path) -> None:
    universe, edges = snap_universe(http_server, bucket, ORCEncoding())
    code = dag(universe, ["AllAssetsComputed"], "python")
    (tmp_path / "main.py").write_text(code, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "main.py"],
        cwd=tmp_path,
        env={**_minimal_env(), **bucket.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    killed = False
    for line in proc.stdout:
        if line.strip() == "running ca_hepth_table_published":
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
    proc.wait(timeout=60)
    proc.stdout.close()
    assert killed and proc.returncode == -signal.SIGKILL
    run(code, tmp_path, bucket)
    for name, rows in edges.items():
        assert table(bucket, f"snap/{name}/{name}.orc") == [tuple(r) for r in rows]


def test_wrong_credentials_fail_the_first_step_and_write_nothing(
    http_server, bucket, tmp_path
) -> None:
    universe, _ = snap_universe(http_server, bucket, ORCEncoding())
    code = dag(universe, ["AllAssetsComputed"], "python")
    wrong = dataclasses.replace(bucket, secret_key="wrong" + bucket.secret_key[5:])
    proc = run(code, tmp_path, wrong, expect_ok=False)
    first = proc.stderr.split("FAILED ", 1)[1].splitlines()[0]
    assert first.startswith("ca_grqc_downloaded") or first.startswith("ca_hepth_downloaded")
    assert bucket.endpoint in first and f"bucket {bucket.bucket}" in first
    assert bucket.access_key_env in first and bucket.secret_key_env in first
    assert "fix:" in first and wrong.secret_key not in proc.stderr + proc.stdout
    assert bucket.keys() == []
    assert data_files(tmp_path) == []


# ------------------------------------------------------------------------ derived tables


def check_graph_tables(store) -> None:
    degrees: dict[int, int] = {}
    for a, _ in EDGES:
        degrees[a] = degrees.get(a, 0) + 1
    assert table(store, "derived/degrees/degrees.parquet") == sorted(degrees.items())
    hubs = sorted(n for n, d in degrees.items() if d > 1)
    assert table(store, "derived/hubs/hubs.parquet") == [(n,) for n in hubs]
    assert table(store, "derived/hub_count/hub_count.parquet") == [(len(hubs), "{literal}")]
    assert sorted(table(store, "derived/out_degree/out_degree.parquet")) == sorted(degrees.items())
    weights = {n: w for n, w, _ in MEASURES}
    expected = [(n, weights[n]) for n in hubs]
    assert table(store, "derived/hub_measures/hub_measures.parquet") == expected


def test_sql_derived_tables_in_a_python_script(http_server, bucket, tmp_path) -> None:
    serve_graphs(http_server.root)
    universe = on_the_store(graph_universe(http_server.base_url), bucket)
    code = dag(universe, ["AllAssetsComputed"], "python")
    assert_no_secret(code, bucket)
    run(code, tmp_path, bucket)
    check_graph_tables(bucket)
    assert data_files(tmp_path) == []
    before = snapshot(bucket)
    run(code, tmp_path, bucket)
    assert snapshot(bucket) == before


# ------------------------------------------------------------------------------ the wine


def check_wine(store, csv_path: Path, n_rows: int) -> None:
    for model, metrics in reference(csv_path).items():
        rows = table(store, f"wine/{model}_metrics/{model}_metrics.parquet")
        assert [r[0] for r in rows] == list(metrics)
        for metric, value in rows:
            assert value == pytest.approx(metrics[metric], rel=1e-9, abs=1e-12), (model, metric)
    session = onnxruntime.InferenceSession(
        store.read("models/alcohol_model.onnx"), providers=["CPUExecutionProvider"]
    )
    wine = pyarrow.parquet.read_table(io.BytesIO(store.read("wine/wine_table/wine_table.parquet")))
    assert wine.column("wine_id").to_pylist() == list(range(1, n_rows + 1))
    features = np.column_stack(
        [wine.column(c).to_numpy().astype(np.float32) for c in wine_example.FEATURES]
    )
    scored = session.run(None, {"input": features})[0].reshape(-1)
    predicted = table(store, "wine/alcohol_predictions/alcohol_predictions.parquet")
    assert [r[0] for r in predicted] == list(range(1, n_rows + 1))
    assert [r[1] for r in predicted] == pytest.approx([float(v) for v in scored])
    labels = {r[1] for r in table(store, "wine/cultivar_predictions/cultivar_predictions.parquet")}
    assert labels <= {"class_0", "class_1", "class_2"} and len(labels) > 1


@pytest.fixture
def wine_on_the_store(http_server, bucket):
    csv_path = http_server.root / "wine.csv"
    n_rows = wine_example.write_wine_csv(csv_path)
    universe = on_the_store(wine_example.wine_universe(http_server.base_url), bucket)
    return universe, csv_path, n_rows


def test_wine_models_in_a_python_script(wine_on_the_store, bucket, tmp_path) -> None:
    universe, csv_path, n_rows = wine_on_the_store
    code = dag(universe, ["AllAssetsComputed"], "python")
    assert_no_secret(code, bucket)
    run(code, tmp_path, bucket)
    check_wine(bucket, csv_path, n_rows)
    assert data_files(tmp_path) == []
    before = snapshot(bucket)
    run(code, tmp_path, bucket)
    assert snapshot(bucket) == before


# ------------------------------------------------------------------------------- airflow


def run_isolated(airflow_home, code, dag_id, tmp_path, store, monkeypatch) -> dict:
    """Run the DAG with each task in a fresh, empty working directory of its own."""
    for name, value in store.env.items():
        monkeypatch.setenv(name, value)
    tmp_path.mkdir(parents=True, exist_ok=True)
    report = airflow(airflow_home, code, dag_id, tmp_path, "isolated")
    assert report["import_errors"] == {}
    assert report["failed"] == [], report
    workdirs = report["workdirs"]
    assert len(set(workdirs.values())) == len(report["tasks"])
    for workdir in workdirs.values():
        assert data_files(Path(workdir)) == []
    assert data_files(tmp_path) == []
    return report


def test_snap_and_sql_tables_in_airflow_on_several_workers(
    http_server, bucket, airflow_home, tmp_path, monkeypatch
) -> None:
    universe, edges = snap_universe(http_server, bucket, ORCEncoding())
    code = dag(universe, ["AllAssetsComputed"], "airflow")
    assert_no_secret(code, bucket)
    run_isolated(airflow_home, code, "my_cluster", tmp_path / "snap", bucket, monkeypatch)
    for name, rows in edges.items():
        assert table(bucket, f"snap/{name}/{name}.orc") == [tuple(r) for r in rows]
    serve_graphs(http_server.root)
    graphs = on_the_store(graph_universe(http_server.base_url), bucket)
    code = dag(graphs, ["AllAssetsComputed"], "airflow")
    assert_no_secret(code, bucket)
    made = run_isolated(airflow_home, code, "graph_lab", tmp_path / "graphs", bucket, monkeypatch)
    check_graph_tables(bucket)
    # Each table is announced once, with the version its marker records ...
    uris = [uri for uri, _ in made["asset_events"]]
    assert uris and all(uri.startswith("s3://") for uri in uris)
    assert len(set(uris)) == len(uris)
    assert all(version for _, version in made["asset_events"]), made["asset_events"]
    before = snapshot(bucket)
    again = run_isolated(airflow_home, code, "graph_lab", tmp_path / "graphs", bucket, monkeypatch)
    assert snapshot(bucket) == before
    # ... and a rerun that changed nothing announces nothing.
    assert again["asset_events"] == [], again["asset_events"]


def test_wine_models_in_airflow_on_several_workers(
    wine_on_the_store, bucket, airflow_home, tmp_path, monkeypatch
) -> None:
    universe, csv_path, n_rows = wine_on_the_store
    code = dag(universe, ["AllAssetsComputed"], "airflow")
    assert_no_secret(code, bucket)
    started = time.monotonic()
    run_isolated(airflow_home, code, "wine_ml", tmp_path, bucket, monkeypatch)
    assert time.monotonic() - started < 600
    check_wine(bucket, csv_path, n_rows)


def test_a_broken_contract_on_the_object_store_keeps_the_table_s_object(bucket, tmp_path) -> None:
    """Contracts are checked on the typed staging rows before the table's object is
    written: a violation leaves the published object as it was."""
    from test_contracts import BROKEN, FIX, GOOD
    from test_contracts import universe as contracted
    from test_trust import Scripted

    served = Scripted()
    try:
        served.serve("/good", GOOD)
        served.serve("/bad", GOOD)
        universe = contracted(served.base, storage=hive("g"), endpoints=endpoints(bucket))
        code = dag(universe, ["AllAssetsComputed"], "python")
        run(code, tmp_path, bucket)
        before = bucket.read("g/bad/bad.parquet")
        for contract in ("max", "accepted_values"):
            body, said = BROKEN[contract]
            served.serve("/bad", body)
            out = output_of(run(code, tmp_path, bucket, expect_ok=False))
            failed = "FAILED bad_converted_to_target_encoding: ContractViolation: "
            failed += f"g.bad: {said}; {FIX}"
            assert failed in out, out
            assert bucket.read("g/bad/bad.parquet") == before
        served.serve("/bad", GOOD.replace(b"0.5", b"0.25"))
        run(code, tmp_path, bucket)
        assert bucket.read("g/bad/bad.parquet") != before
        assert len(table(bucket, "g/bad/bad.parquet")) == 3
    finally:
        served.shutdown()
        served.server_close()


def test_delimited_sources_of_their_own_dialect_replicate_into_the_bucket(
    http_server, bucket, tmp_path
) -> None:
    """Semicolons with a header, and pipes without quoting (gzip): the object store's
    own steps rewrite them as plain CSV, with the rows Python's csv module reads."""
    import csv

    from test_sources import PIPES, TRIPS, parsed, serve
    from test_sources import universe as delimited

    serve(http_server.root)
    code = dag(
        delimited(http_server.base_url, endpoints=endpoints(bucket)),
        ["AllAssetsComputed"],
        "python",
    )
    run(code, tmp_path, bucket)
    trips = parsed(TRIPS.split(b"\n", 1)[1], delimiter=";")
    assert sorted(table(bucket, "s/trips/trips.parquet")) == trips
    pipes = parsed(PIPES, delimiter="|", quoting=csv.QUOTE_NONE)
    assert sorted(table(bucket, "s/pipes/pipes.parquet")) == pipes
    before = snapshot(bucket)
    run(code, tmp_path, bucket)
    assert snapshot(bucket) == before


def test_inline_rows_are_a_table_in_the_bucket(bucket, tmp_path) -> None:
    """The rows the declaration holds are written to the bucket as the object the
    later steps read: no network, no file."""
    from test_sources import inline_universe

    rows = [[1, 'say "hi", then\nleave', 2.5], [2, None, 3]]
    code = dag(inline_universe(rows, endpoints(bucket)), ["AllAssetsComputed"], "python")
    run(code, tmp_path, bucket)
    assert "i/codes/codes.parquet" in snapshot(bucket), sorted(snapshot(bucket))
    assert sorted(table(bucket, "i/codes/codes.parquet")) == [
        (1, 'say "hi", then\nleave', 2.5),
        (2, None, 3.0),
    ]
    before = snapshot(bucket)
    run(code, tmp_path, bucket)
    assert snapshot(bucket) == before
