"""Seconds to replicate the same 1M-row gzip TSV into each engine, beside the embedded lake.

    python benchmarks/engines.py                          # every engine, 1,000,000 rows
    python benchmarks/engines.py --rows 200000 --engines lake,postgres

For each engine the universe is the same one table (two BIGINT columns, four header
lines, gzip), replicated into an ORC table (the lake, the object store, Spark) or a
PostgreSQL table. The file is served over HTTP on 127.0.0.1; each engine's server is
started on 127.0.0.1 by the test suite's own helpers (tests/server_*.py) and stopped
after. The generated python program runs in a fresh directory, timed from start to exit
(Spark's includes starting its JVM, as a user's run would). Prints one table; not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.server
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

ENGINES = ["lake", "objectstore", "spark", "postgres"]


def write_tsv(path: Path, rows: int) -> None:
    """`rows` edges under four header lines, gzip-compressed, written in large blocks."""
    with gzip.open(path, "wt", compresslevel=1, encoding="ascii") as out:
        out.write("# Directed graph\n# Nodes: many\n# from\tto\n# end of header\n")
        block = 100_000
        for start in range(0, rows, block):
            out.write(
                "".join(
                    f"{i}\t{(i * 7919) % rows}\n" for i in range(start, min(rows, start + block))
                )
            )


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(directory: Path) -> Iterator[str]:
    handler = partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def universe(url: str, engine: str, endpoints: dict):
    from aorist import (
        CSVEncoding,
        CSVHeader,
        DataSet,
        EndpointConfig,
        GzipCompression,
        HiveTableStorage,
        IdentifierTuple,
        MinioLocation,
        NumericIdentifier,
        ORCEncoding,
        PostgresLocation,
        PostgresStorage,
        RemoteStorage,
        RemoteStorageSetup,
        StaticDataTable,
        TSVEncoding,
        Universe,
        WebLocation,
        default_tabular_schema,
    )

    edge = IdentifierTuple(
        name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
    )
    table = StaticDataTable(
        name="edges",
        schema=default_tabular_schema(edge),
        setup=RemoteStorageSetup(
            remote=RemoteStorage(
                location=WebLocation(address=url),
                encoding=TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=4)),
            )
        ),
    )
    if engine == "postgres":
        database = endpoints["postgres"].database
        target = PostgresStorage(location=PostgresLocation(database=database, schema="bench"))
    else:
        target = HiveTableStorage(location=MinioLocation(name="bench"), encoding=ORCEncoding())
    dataset = DataSet(name="bench", datum_templates=[edge], assets=[table])
    dataset = dataset.replicate_to_local(target, "tmp/bench", CSVEncoding())
    return Universe(name="bench", datasets=[dataset], endpoints=EndpointConfig(**endpoints))


@contextlib.contextmanager
def engine_endpoints(engine: str, scratch: Path) -> Iterator[tuple[dict, dict[str, str]]]:
    """The universe's endpoints for `engine` and the environment its program needs."""
    from aorist import MinioConfig, PostgresConfig, SparkConfig

    (scratch / engine).mkdir()
    if engine == "lake":
        yield {}, {}
    elif engine == "postgres":
        from server_postgres import running_postgres

        with running_postgres(scratch / engine) as pg:
            config = PostgresConfig(
                server=pg.host,
                port=pg.port,
                username=pg.user,
                password_env="BENCH_PG_PASSWORD",
                database=pg.dbname,
            )
            yield {"postgres": config}, {"BENCH_PG_PASSWORD": pg.password}
    elif engine == "objectstore":
        from server_s3 import seaweedfs

        with seaweedfs(scratch / engine) as s3:
            config = MinioConfig(
                server=s3.host,
                port=s3.port,
                bucket=s3.bucket,
                access_key_env="BENCH_S3_KEY",
                secret_key_env="BENCH_S3_SECRET",
            )
            env = {"BENCH_S3_KEY": s3.access_key, "BENCH_S3_SECRET": s3.secret_key}
            yield {"minio": config}, env
    elif engine == "spark":
        from server_spark import spark_environment

        with spark_environment(scratch / engine) as spark:
            config = SparkConfig(master="local[2]", warehouse_dir="spark-warehouse")
            yield {"spark": config}, dict(spark.env)
    else:
        raise SystemExit(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")


def run_program(code: str, cwd: Path, env: dict[str, str]) -> float:
    cwd.mkdir(parents=True)
    (cwd / "main.py").write_text(code, encoding="utf-8")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "main.py"],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"the generated program failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default=",".join(ENGINES))
    args = parser.parse_args()
    from aorist import dag

    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="aorist-engines-") as tmp:
        scratch = Path(tmp)
        scratch.chmod(0o755)  # PostgreSQL's server runs as the postgres user
        data = scratch / "www"
        data.mkdir()
        write_tsv(data / "edges.txt.gz", args.rows)
        size = (data / "edges.txt.gz").stat().st_size
        with serving(data) as base:
            for engine in args.engines.split(","):
                with engine_endpoints(engine, scratch) as (endpoints, env):
                    code = dag(
                        universe(f"{base}/edges.txt.gz", engine, endpoints),
                        ["AllAssetsComputed"],
                        "python",
                    )
                    results[engine] = run_program(code, scratch / f"run-{engine}", env)
    lake = results.get("lake")
    print(f"replicating {args.rows:,} rows ({size / 1e6:.1f} MB gzip TSV) into one table")
    print(f"{'engine':<12} {'seconds':>8} {'rows/s':>12} {'vs lake':>8}")
    for engine, seconds in results.items():
        ratio = f"{seconds / lake:.2f}x" if lake else "-"
        print(f"{engine:<12} {seconds:>8.2f} {args.rows / seconds:>12,.0f} {ratio:>8}")


if __name__ == "__main__":
    main()
