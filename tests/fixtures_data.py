"""Deterministic fixture files and the universes that declare them.

Every generator uses a fixed seed, so the same call writes the same bytes on every run
(gzip and zip timestamps are pinned too). File writers return the number of data rows
(or, for the raw byte wrappers ``zipped``/``bz2ed``, the number of lines) they wrote.

The universe builders import aorist lazily, so this module imports cleanly without it
(``test_replication`` also runs them in subprocesses with different hash seeds).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import random
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

# ----------------------------------------------------------------------- SNAP-like graphs

SNAP_NAMES = [
    "ca-AstroPh",
    "ca-CondMat",
    "ca-GrQc",
    "ca-HepPh",
    "ca-HepTh",
    "web-BerkStan",
    "web-Google",
    "web-NotreDame",
    "web-Stanford",
    "amazon0302",
    "amazon0312",
    "amazon0505",
]


def snap_key(name: str) -> str:
    """The asset name the SNAP example derives from a graph name."""
    return name.replace("-", "_").lower()


def snap_edge_counts(names: Sequence[str] = SNAP_NAMES) -> dict[str, int]:
    """A different small edge count per graph."""
    return {name: 20 + 7 * i for i, name in enumerate(names)}


def snap_like_edges(n_edges: int, seed: int = 0) -> list[tuple[int, int]]:
    rng = random.Random(seed * 1_000_003 + n_edges)
    return [(rng.randrange(0, 10_000), rng.randrange(0, 10_000)) for _ in range(n_edges)]


def snap_like_bytes(n_edges: int, comment_lines: int = 4, seed: int = 0) -> bytes:
    """A SNAP edge list: ``comment_lines`` lines starting with '# ', then 'from<TAB>to' lines."""
    comments = [
        "# Directed graph (each unordered pair of nodes is saved once): fixture.txt",
        "# Collaboration network of a deterministic fixture",
        f"# Nodes: 10000 Edges: {n_edges}",
        "# FromNodeId\tToNodeId",
    ]
    while len(comments) < comment_lines:
        comments.append(f"# comment line {len(comments) + 1}")
    lines = comments[:comment_lines] + [f"{a}\t{b}" for a, b in snap_like_edges(n_edges, seed)]
    return ("\n".join(lines) + "\n").encode()


def snap_like_gz(path: Path, n_edges: int, comment_lines: int = 4, seed: int = 0) -> int:
    """Write a gzipped SNAP-like edge list to ``path``; return the number of edges."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(snap_like_bytes(n_edges, comment_lines, seed))
    return n_edges


def edge_sums(n_edges: int, seed: int = 0) -> tuple[int, int]:
    edges = snap_like_edges(n_edges, seed)
    return sum(a for a, _ in edges), sum(b for _, b in edges)


# ----------------------------------------------------------------------- wine-like CSV

WINE_FLOAT_COLUMNS = [
    "alcohol",
    "malic_acid",
    "ash",
    "alcalinity_of_ash",
    "magnesium",
    "total_phenols",
    "flavanoids",
    "nonflavanoid_phenols",
    "proanthocyanins",
    "color_intensity",
    "hue",
    "od280_od315",
    "proline",
]
WINE_COLUMNS = [*WINE_FLOAT_COLUMNS, "class"]


def wine_like_rows(n_rows: int, seed: int = 0) -> list[tuple[Any, ...]]:
    """Rows of 13 floats (three decimals, exactly as written to the file) and an int class."""
    rng = random.Random(seed * 1_000_003 + n_rows + 178)
    rows = []
    for _ in range(n_rows):
        floats = tuple(float(f"{rng.uniform(0.1, 1500.0):.3f}") for _ in WINE_FLOAT_COLUMNS)
        rows.append((*floats, rng.randint(1, 3)))
    return rows


def wine_like_csv(path: Path, n_rows: int, seed: int = 0) -> int:
    """Write a header line and ``n_rows`` wine-like rows as CSV; return ``n_rows``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(WINE_COLUMNS)]
    for row in wine_like_rows(n_rows, seed):
        lines.append(",".join([*(f"{v:.3f}" for v in row[:-1]), str(row[-1])]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n_rows


# ----------------------------------------------------------------------- JSON lines, zip, bz2


def jsonl_rows(n_rows: int, seed: int = 0) -> list[dict[str, Any]]:
    """Typed rows for a JSON-lines source: ``id`` (str), ``count`` (int), ``score`` (float),
    ``flag`` (bool) and ``note`` (str, left out of every third row). Key order varies."""
    rng = random.Random(seed * 1_000_003 + n_rows + 7)
    rows = []
    for i in range(n_rows):
        row: dict[str, Any] = {
            "id": f"row-{i:04d}",
            "count": rng.randrange(-1000, 1000),
            "score": round(rng.uniform(-5, 5), 4),
            "flag": bool(rng.getrandbits(1)),
        }
        if i % 3 != 0:
            row["note"] = f'note {i}, with "quotes" and a comma'
        if i % 2:
            row = dict(reversed(list(row.items())))
        rows.append(row)
    return rows


def jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write one JSON object per line; return the number of rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(dict(row)) for row in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


def _line_count(data: bytes) -> int:
    return len(data.splitlines())


def zipped(path: Path, inner_name: str, data: bytes | str) -> int:
    """Write a zip archive holding one member ``inner_name``; return its number of lines."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = _as_bytes(data)
    info = zipfile.ZipInfo(inner_name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, payload)
    return _line_count(payload)


def bz2ed(path: Path, data: bytes | str) -> int:
    """Write ``data`` bzip2-compressed; return its number of lines."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = _as_bytes(data)
    path.write_bytes(bz2.compress(payload))
    return _line_count(payload)


def delimited(
    rows: Iterable[Sequence[Any]], sep: str, header: Sequence[str] | None = None
) -> bytes:
    """Rows (and an optional header line) joined by ``sep``, one per line."""
    lines = [sep.join(header)] if header is not None else []
    lines += [sep.join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ----------------------------------------------------------------------- universes


def snap_dataset(
    base: str, names: Sequence[str] = SNAP_NAMES, dataset: str = "snap", target: Any = None
) -> Any:
    """The SNAP example of the README, reading ``{base}/{name}.txt.gz``, replicated into
    ``target`` (default: ORC tables at the location named after the dataset)."""
    from aorist import (
        CSVEncoding,
        CSVHeader,
        DataSet,
        GzipCompression,
        HiveTableStorage,
        IdentifierTuple,
        MinioLocation,
        NumericIdentifier,
        ORCEncoding,
        RemoteStorage,
        RemoteStorageSetup,
        StaticDataTable,
        TSVEncoding,
        WebLocation,
        default_tabular_schema,
    )

    attributes = [NumericIdentifier("from_id"), NumericIdentifier("to_id")]
    edge_tuple = IdentifierTuple(name="edge", attributes=attributes)
    tables = []
    for name in names:
        key = snap_key(name)
        remote = RemoteStorage(
            location=WebLocation(address=f"{base}/{name}.txt.gz"),
            encoding=TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=4)),
        )
        tables.append(
            StaticDataTable(
                name=key,
                schema=default_tabular_schema(edge_tuple),
                setup=RemoteStorageSetup(remote=remote),
                tag=key,
            )
        )
    snap = DataSet(
        name=dataset, description="SNAP graphs", datum_templates=[edge_tuple], assets=tables
    )
    local = target or HiveTableStorage(location=MinioLocation(name=dataset), encoding=ORCEncoding())
    return snap.replicate_to_local(local, f"tmp/{dataset}", CSVEncoding())


def snap_universe(base: str, names: Sequence[str] = SNAP_NAMES) -> Any:
    from aorist import Universe

    return Universe(name="my_cluster", datasets=[snap_dataset(base, names)])


def wine_dataset(base: str, file_name: str = "wine.csv") -> Any:
    """A wine-like CSV with one header line, replicated to Parquet in the lake."""
    from aorist import (
        CSVEncoding,
        CSVHeader,
        DataSet,
        Float64,
        HiveTableStorage,
        Int64,
        MinioLocation,
        ParquetEncoding,
        RemoteStorage,
        RemoteStorageSetup,
        RowStruct,
        StaticDataTable,
        WebLocation,
        default_tabular_schema,
    )

    attributes = [Float64(name) for name in WINE_FLOAT_COLUMNS] + [
        Int64("class", comment="cultivar")
    ]
    row = RowStruct(name="wine_row", attributes=attributes)
    remote = RemoteStorage(
        location=WebLocation(address=f"{base}/{file_name}"),
        encoding=CSVEncoding(header=CSVHeader(num_lines=1)),
    )
    table = StaticDataTable(
        name="wine_table",
        schema=default_tabular_schema(row),
        setup=RemoteStorageSetup(remote=remote),
        tag="wine",
    )
    wine = DataSet(
        name="wine", description="Wine recognition", datum_templates=[row], assets=[table]
    )
    local = HiveTableStorage(location=MinioLocation(name="wine"), encoding=ParquetEncoding())
    return wine.replicate_to_local(local, "tmp/wine", CSVEncoding())


def jsonl_dataset(base: str, file_name: str = "events.jsonl") -> Any:
    """A JSON-lines source with typed columns and a nullable one, replicated to ORC."""
    from aorist import (
        Boolean,
        CSVEncoding,
        DataSet,
        Float64,
        FreeText,
        HiveTableStorage,
        Int64,
        KeyStringIdentifier,
        MinioLocation,
        NewlineDelimitedJSONEncoding,
        ORCEncoding,
        RemoteStorage,
        RemoteStorageSetup,
        RowStruct,
        StaticDataTable,
        WebLocation,
        default_tabular_schema,
    )

    attributes = [
        KeyStringIdentifier("id"),
        Int64("count"),
        Float64("score"),
        Boolean("flag"),
        FreeText("note", nullable=True),
    ]
    row = RowStruct(name="event", attributes=attributes)
    remote = RemoteStorage(
        location=WebLocation(address=f"{base}/{file_name}"),
        encoding=NewlineDelimitedJSONEncoding(),
    )
    table = StaticDataTable(
        name="events",
        schema=default_tabular_schema(row),
        setup=RemoteStorageSetup(remote=remote),
    )
    events = DataSet(name="logs", description="JSON lines", datum_templates=[row], assets=[table])
    local = HiveTableStorage(location=MinioLocation(name="logs"), encoding=ORCEncoding())
    return events.replicate_to_local(local, "tmp/logs", CSVEncoding())


def mixed_universe(base: str) -> Any:
    """Several datasets of different shapes in one universe (for determinism checks)."""
    from aorist import Universe

    return Universe(
        name="mixed",
        datasets=[snap_dataset(base), wine_dataset(base), jsonl_dataset(base)],
    )
