"""Quickstart: generate the program for the example universe, run it, show the lake.

    python examples/quickstart.py [--dialect python] [--out quickstart-run]

Small source files are made (deterministically) and served from 127.0.0.1, so this
runs offline; the generated program is written to `<out>/quickstart.py` and run there.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import random
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aorist import dag  # noqa: E402

from universe import GRAPHS, WINE_COLUMNS, universe  # noqa: E402


def make_sources(directory: Path) -> None:
    rng = random.Random(7)
    directory.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(GRAPHS):
        lines = [
            f"# {name}: a sample graph",
            "# Nodes: 100",
            "# Edges: sampled",
            "# FromNodeId\tToNodeId",
        ]
        lines += [f"{rng.randrange(100)}\t{rng.randrange(100)}" for _ in range(50 * (i + 1))]
        (directory / f"{name}.txt.gz").write_bytes(
            gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
        )
    rows = [",".join([*WINE_COLUMNS, "class"])]
    for _ in range(178):
        values = [f"{rng.uniform(0.1, 100):.2f}" for _ in WINE_COLUMNS]
        rows.append(",".join([*values, str(rng.randint(1, 3))]))
    (directory / "wine.csv").write_text("\n".join(rows) + "\n")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="quickstart-run", help="where to write and run it")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    make_sources(out / "sources")
    handler = partial(QuietHandler, directory=str(out / "sources"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        program = out / "quickstart.py"
        program.write_text(dag(universe(base_url), ["AllAssetsComputed"], "python"))
        print(f"generated {program} ({len(program.read_text().splitlines())} lines); running it:")
        result = subprocess.run([sys.executable, program.name], cwd=out)
        if result.returncode != 0:
            print(f"the generated program failed with exit code {result.returncode}")
            return result.returncode
    finally:
        server.shutdown()
    connection = duckdb.connect(str(out / "lake" / "lake.duckdb"), read_only=True)
    tables = connection.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema NOT IN ('information_schema', 'pg_catalog', '_aorist')"
        " ORDER BY table_schema, table_name"
    ).fetchall()
    print(f"\nthe lake at {out / 'lake'} now holds {len(tables)} tables:")
    for schema, name in tables:
        count = connection.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchall()[0][0]
        columns = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
        shown = ", ".join(f"{c} {t}" for c, t in columns[:4]) + (
            ", ..." if len(columns) > 4 else ""
        )
        print(f"  {schema}.{name}: {count} rows ({shown})")
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
