"""SNAP graphs, their node degrees by SQL and their top nodes by a Python function.

    python examples/snap_degrees.py [--dialect python|r] [--out snap-run]

Small edge lists shaped like SNAP's (gzip TSV, four `#` header lines) are made
deterministically and served from 127.0.0.1, so this runs offline. The universe
replicates each graph into the embedded lake as ORC (`snap.<graph>`, the seed's SNAP
example) and, in a second dataset `graph_stats`, derives from each graph:

- `<graph>_degrees`, computed by SQL over `{edges}` (the graph's lake table, named
  across datasets as `snap.<graph>`), with a declared schema checked before publishing;
- `<graph>_top_nodes` and `<graph>_histogram`, computed by the functions of
  `examples/snap_functions.py` from the degree table.

The asset lineage (`explain(..., view="assets")`) is printed, the program is generated
with `dag(...)`, written to `<out>/snap_degrees.py` (or `.R`) and run; then the derived
tables are printed. The `r` dialect needs `Rscript` and the `duckdb` command-line
program; its Python steps (ORC files, the functions) run with `python3`.

The module also holds the universe for the command line, its sources read from
$SNAP_SOURCES (by default http://127.0.0.1:8000):

    aorist explain examples/snap_degrees.py --assets [--format dot]
    aorist generate examples/snap_degrees.py --dialect airflow -o dags/
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import os
import random
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from snap_functions import degree_histogram, top_nodes  # noqa: E402

from aorist import (  # noqa: E402
    ComputedFromLocalData,
    Count,
    CSVEncoding,
    CSVHeader,
    DataSet,
    GzipCompression,
    HiveTableStorage,
    IdentifierTuple,
    MinioLocation,
    NumericIdentifier,
    ORCEncoding,
    ParquetEncoding,
    RemoteStorage,
    RemoteStorageSetup,
    RowStruct,
    StaticDataTable,
    TSVEncoding,
    UndefinedTabularSchema,
    Universe,
    WebLocation,
    dag,
    default_tabular_schema,
    explain,
)

GRAPHS = ["ca-GrQc", "ca-HepTh", "web-Stanford"]
DEGREES_SQL = "SELECT from_id AS node, count(*) AS degree FROM {edges} GROUP BY 1"


def key(name: str) -> str:
    """The asset name of a SNAP graph: `ca-GrQc` -> `ca_grqc`."""
    return name.replace("-", "_").lower()


def make_sources(directory: Path) -> None:
    """One gzip TSV edge list per graph, with SNAP's four header lines (same bytes each run)."""
    rng = random.Random(11)
    directory.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(GRAPHS):
        nodes = 40 + 20 * i
        edges = sorted({(rng.randrange(nodes), rng.randrange(nodes)) for _ in range(120 * (i + 1))})
        lines = [
            f"# Directed graph (each unordered pair of nodes is saved once): {name}.txt",
            f"# A SNAP-like sample graph: {name}",
            f"# Nodes: {nodes} Edges: {len(edges)}",
            "# FromNodeId\tToNodeId",
            *(f"{a}\t{b}" for a, b in edges),
        ]
        (directory / f"{name}.txt.gz").write_bytes(
            gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
        )


def snap_universe(base_url: str) -> Universe:
    """The graphs replicated as ORC, and per graph its degrees, top nodes and histogram."""
    edge = IdentifierTuple(
        name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("to_id")]
    )
    snap = DataSet(
        name="snap",
        description="SNAP-like graphs (small deterministic samples).",
        datum_templates=[edge],
        assets=[
            StaticDataTable(
                name=key(name),
                schema=default_tabular_schema(edge),
                setup=RemoteStorageSetup(
                    remote=RemoteStorage(
                        location=WebLocation(address=f"{base_url}/{name}.txt.gz"),
                        encoding=TSVEncoding(
                            compression=GzipCompression(), header=CSVHeader(num_lines=4)
                        ),
                    )
                ),
                tag=key(name),
            )
            for name in GRAPHS
        ],
    ).replicate_to_local(
        HiveTableStorage(location=MinioLocation(name="snap"), encoding=ORCEncoding()),
        "tmp/snap",
        CSVEncoding(),
    )

    degree = RowStruct(name="degree", attributes=[NumericIdentifier("node"), Count("degree")])
    stats = HiveTableStorage(location=MinioLocation(name="graph_stats"), encoding=ParquetEncoding())
    derived = []
    for name in GRAPHS:
        graph = key(name)
        derived.append(
            StaticDataTable(
                name=f"{graph}_degrees",
                schema=default_tabular_schema(degree),
                setup=ComputedFromLocalData(
                    source_asset_names={"edges": f"snap.{graph}"}, target=stats, sql=DEGREES_SQL
                ),
                comment=f"out-degree of every node of {name} with an edge out",
            )
        )
        for suffix, function in (("top_nodes", top_nodes), ("histogram", degree_histogram)):
            derived.append(
                StaticDataTable(
                    name=f"{graph}_{suffix}",
                    schema=UndefinedTabularSchema(),
                    setup=ComputedFromLocalData(
                        source_asset_names={"degrees": f"{graph}_degrees"},
                        target=stats,
                        function=function,
                    ),
                )
            )
    graph_stats = DataSet(
        name="graph_stats",
        description="Degree statistics of the SNAP graphs.",
        datum_templates=[degree],
        assets=derived,
    )
    return Universe(name="snap_degrees", datasets=[snap, graph_stats])


snap_degrees = snap_universe(os.environ.get("SNAP_SOURCES", "http://127.0.0.1:8000"))


def show_lake(lake: Path) -> None:
    import duckdb

    with duckdb.connect(str(lake / "lake.duckdb"), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema IN ('snap', 'graph_stats') ORDER BY 1, 2"
        ).fetchall()
        print(f"\nthe lake at {lake} holds {len(tables)} tables:")
        for schema, table in tables:
            name = f'"{schema}"."{table}"'
            count = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            columns = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
            shown = ", ".join(f"{c} {t}" for c, t in columns)
            print(f"  {schema}.{table}: {count} rows ({shown})")
        for graph in map(key, GRAPHS):
            rows = con.execute(f'SELECT * FROM graph_stats."{graph}_top_nodes"').fetchall()
            top = ", ".join(f"{node} ({degree})" for _, node, degree in rows)
            print(f"\ngraph_stats.{graph}_top_nodes: {top}")
            rows = con.execute(f'SELECT * FROM graph_stats."{graph}_histogram"').fetchall()
            print(f"graph_stats.{graph}_histogram: " + ", ".join(f"{d}: {n}" for d, n in rows))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", default="python", choices=["python", "r"])
    parser.add_argument("--out", default="snap-run", type=Path, help="where to write and run it")
    args = parser.parse_args()
    out = args.out.resolve()
    make_sources(out / "sources")
    handler = partial(QuietHandler, directory=str(out / "sources"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        universe = snap_universe(f"http://127.0.0.1:{server.server_address[1]}")
        print(explain(universe, ["AllAssetsComputed"], view="assets"))
        code = dag(universe, ["AllAssetsComputed"], args.dialect)
        program = out / ("snap_degrees.py" if args.dialect == "python" else "snap_degrees.R")
        program.write_text(code, encoding="utf-8")
        print(f"generated {program} ({len(code.splitlines())} lines); running it:")
        command = [sys.executable] if args.dialect == "python" else ["Rscript"]
        result = subprocess.run([*command, program.name], cwd=out)
        if result.returncode != 0:
            print(f"the generated program failed with exit code {result.returncode}")
            return result.returncode
    finally:
        server.shutdown()
    show_lake(out / "lake")
    return 0


if __name__ == "__main__":
    sys.exit(main())
