"""The generated python program against a hand-written DuckDB script, on the same sources.

    python benchmarks/pipeline.py                                  # 1M, 5M and 10M edges
    python benchmarks/pipeline.py --edges 5000000 --runs 3 --unfused

Sources, generated and served over HTTP on 127.0.0.1:
- SNAP-shaped edge lists: gzip TSV, four header lines, two BIGINT columns;
- a 1M-row CSV with a header line and mixed columns (BIGINT, VARCHAR, DOUBLE, BOOLEAN).

Each source is replicated into an embedded lake, as Parquet and as ORC, by
- `generated`: `dag(universe, ["AllAssetsComputed"], "python")`, run as a user runs it;
- `unfused` (with --unfused): the same with `fuse=False`, one recipe per constraint;
- `hand-written`: download, one DuckDB read, write the file, register the table.
Runs alternate between the variants. Printed per variant: the median wall time, the
peak RSS of the process (the program runs every step in it), the peak disk used in its
directory (download, temporaries, lake), and the ratio to the hand-written script.
Not a test: the figures go into the README's performance section.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from engines import serving, write_tsv  # noqa: E402

MIXED = [("id", "BIGINT"), ("name", "VARCHAR"), ("score", "DOUBLE"), ("flag", "BOOLEAN")]

HAND_WRITTEN = """\
import os
import urllib.request

import duckdb
import pyarrow
import pyarrow.orc

URL, FILE, FORMAT = {url!r}, {file!r}, {target!r}
SKIP, DELIM = {skip!r}, {delim!r}
COLUMNS = {columns!r}

urllib.request.urlretrieve(URL, FILE)
os.makedirs("lake/bench", exist_ok=True)
read = (
    f"SELECT * FROM read_csv('{{FILE}}', header = false, skip = {{SKIP}}, "
    f"delim = '{{DELIM}}', columns = {{COLUMNS}})"
)
con = duckdb.connect("lake/lake.duckdb")
con.execute("CREATE SCHEMA IF NOT EXISTS bench")
target = f"lake/bench/table.{{FORMAT}}"
if FORMAT == "parquet":
    con.execute(f"COPY ({{read}}) TO '{{target}}' (FORMAT parquet)")
    con.execute(
        f"CREATE OR REPLACE TABLE bench.t AS SELECT * FROM read_parquet('{{target}}')"
    )
else:
    reader = con.sql(read).to_arrow_reader()
    writer = pyarrow.orc.ORCWriter(target, compression="snappy")
    for batch in reader:
        writer.write(pyarrow.Table.from_batches([batch]))
    writer.close()
    orc = pyarrow.orc.ORCFile(target)
    batches = (orc.read_stripe(i) for i in range(orc.nstripes))
    con.register("orc", pyarrow.RecordBatchReader.from_batches(orc.schema, batches))
    con.execute("CREATE OR REPLACE TABLE bench.t AS SELECT * FROM orc")
con.close()
"""


def write_mixed(path: Path, rows: int) -> None:
    """A CSV with a header line and mixed column types."""
    with open(path, "w", encoding="ascii") as out:
        out.write(",".join(name for name, _ in MIXED) + "\n")
        block = 100_000
        for start in range(0, rows, block):
            out.write(
                "".join(
                    f"{i},name {i % 977},{i * 0.25:.2f},{'true' if i % 3 else 'false'}\n"
                    for i in range(start, min(rows, start + block))
                )
            )


def universe(url: str, source: str, target: str):
    from aorist import (
        Boolean,
        CSVEncoding,
        CSVHeader,
        DataSet,
        Float64,
        FreeText,
        GzipCompression,
        HiveTableStorage,
        IdentifierTuple,
        KeyInt64Identifier,
        MinioLocation,
        NumericIdentifier,
        ORCEncoding,
        ParquetEncoding,
        RemoteStorage,
        RemoteStorageSetup,
        StaticDataTable,
        TSVEncoding,
        Universe,
        WebLocation,
        default_tabular_schema,
    )

    if source == "edges":
        row = IdentifierTuple(
            name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
        )
        encoding = TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=4))
    else:
        row = IdentifierTuple(
            name="row",
            attributes=[
                KeyInt64Identifier("id"),
                FreeText("name"),
                Float64("score"),
                Boolean("flag"),
            ],
        )
        encoding = CSVEncoding(header=CSVHeader(num_lines=1))
    table = StaticDataTable(
        name="t",
        schema=default_tabular_schema(row),
        setup=RemoteStorageSetup(
            remote=RemoteStorage(location=WebLocation(address=url), encoding=encoding)
        ),
    )
    storage = HiveTableStorage(
        location=MinioLocation(name="bench"),
        encoding=ParquetEncoding() if target == "parquet" else ORCEncoding(),
    )
    dataset = DataSet(name="bench", datum_templates=[row], assets=[table])
    dataset = dataset.replicate_to_local(storage, "tmp/bench", CSVEncoding())
    return Universe(name="bench", datasets=[dataset])


def directory_size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def peak_rss_runner() -> str:
    """A wrapper that runs main.py and reports its own peak RSS (children included)."""
    return (
        "import resource, runpy, sys\n"
        "try:\n"
        "    runpy.run_path('main.py', run_name='__main__')\n"
        "finally:\n"
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    print(f'PEAK_RSS_KIB {peak}', file=sys.stderr)\n"
    )


def timed(code: str, cwd: Path) -> tuple[float, float, int]:
    if cwd.exists():
        shutil.rmtree(cwd)
    cwd.mkdir(parents=True)
    (cwd / "main.py").write_text(code, encoding="utf-8")
    (cwd / "measure.py").write_text(peak_rss_runner(), encoding="utf-8")
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], directory_size(cwd))
            stop.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "measure.py"], cwd=cwd, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    stop.set()
    watcher.join()
    peak[0] = max(peak[0], directory_size(cwd))
    if proc.returncode != 0:
        raise SystemExit(f"{cwd}/main.py failed:\n{proc.stdout}\n{proc.stderr}")
    rss = next(
        int(line.split()[1])
        for line in proc.stderr.splitlines()
        if line.startswith("PEAK_RSS_KIB ")
    )
    return seconds, rss / 1024, peak[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edges", default="1000000,5000000,10000000")
    parser.add_argument("--mixed", type=int, default=1_000_000, help="rows of the CSV (0: none)")
    parser.add_argument("--targets", default="parquet,orc")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--unfused", action="store_true", help="also run fuse=False")
    args = parser.parse_args()
    from aorist import dag

    sources: list[tuple[str, str, int]] = [
        ("edges", f"edges{n}.txt.gz", n) for n in map(int, args.edges.split(",")) if n
    ]
    if args.mixed:
        sources.append(("mixed", "mixed.csv", args.mixed))
    with tempfile.TemporaryDirectory(prefix="aorist-pipeline-") as tmp:
        scratch = Path(tmp)
        data = scratch / "www"
        data.mkdir()
        for kind, file, rows in sources:
            (write_tsv if kind == "edges" else write_mixed)(data / file, rows)
        print(
            f"{'source':<24} {'target':<8} {'variant':<13} {'seconds':>8} {'peak RSS':>10} "
            f"{'peak disk':>10} {'disk/src':>8} {'vs hand':>8}"
        )
        with serving(data) as base:
            for kind, file, rows in sources:
                size = (data / file).stat().st_size
                url = f"{base}/{file}"
                for target in args.targets.split(","):
                    variants = {
                        "generated": dag(
                            universe(url, kind, target), ["AllAssetsComputed"], "python"
                        ),
                        "hand-written": HAND_WRITTEN.format(
                            url=url,
                            file=file,
                            target=target,
                            skip=4 if kind == "edges" else 1,
                            delim="\\t" if kind == "edges" else ",",
                            columns=(
                                {"from_id": "BIGINT", "to_id": "BIGINT"}
                                if kind == "edges"
                                else dict(MIXED)
                            ),
                        ),
                    }
                    if args.unfused:
                        variants["unfused"] = dag(
                            universe(url, kind, target),
                            ["AllAssetsComputed"],
                            "python",
                            fuse=False,
                        )
                    results: dict[str, list[tuple[float, float, int]]] = {v: [] for v in variants}
                    for _ in range(args.runs):
                        for variant, code in variants.items():
                            results[variant].append(timed(code, scratch / "run" / variant))
                    hand = statistics.median(r[0] for r in results["hand-written"])
                    label = f"{kind} {rows:,} ({size / 1e6:.0f} MB)"
                    for variant, runs in results.items():
                        seconds = statistics.median(r[0] for r in runs)
                        rss = max(r[1] for r in runs)
                        disk = max(r[2] for r in runs)
                        print(
                            f"{label:<24} {target:<8} {variant:<13} {seconds:>8.2f} "
                            f"{rss:>7.0f} MiB {disk / 1e6:>7.0f} MB {disk / size:>7.1f}x "
                            f"{seconds / hand:>7.2f}x",
                            flush=True,
                        )


if __name__ == "__main__":
    main()
