r"""Twelve graphs of the Stanford Large Network Dataset Collection (SNAP), as edge lists.

Co-authorship networks of five arXiv categories (ca-*), four web graphs (web-*) and
three snapshots of Amazon's co-purchasing network (amazon*). Each file is one graph: a
gzip-compressed, tab-separated list of edges, one ``FromNodeId<TAB>ToNodeId`` pair per
line, after four comment lines starting with ``#`` (a title, a description, the node and
edge counts, and the column names). Node ids are non-negative integers. The ca-*
networks are undirected and list every edge in both directions.

Source: https://snap.stanford.edu/data/ (one page per graph, e.g.
    https://snap.stanford.edu/data/ca-GrQc.html); files at
    https://snap.stanford.edu/data/<graph>.txt.gz
Licence: none stated by SNAP; cite J. Leskovec and A. Krevl, "SNAP Datasets: Stanford
    Large Network Dataset Collection", 2014, and the paper named on each graph's page.
Size: 12 files, from ca-GrQc (5,242 nodes; 14,496 undirected edges, so 28,980 lines) to
    web-BerkStan (685,230 nodes, 7,600,595 edges); SNAP's page for each graph gives its
    counts, and the third comment line of each file repeats them.
Schema: from_id (NumericIdentifier), to_id (NumericIdentifier): one row per edge.
Checksum: none published by SNAP; sha256 is left None.
Samples:
    *: 0\t11342
"""

from __future__ import annotations

from aorist import (
    CSVHeader,
    DataSet,
    GzipCompression,
    IdentifierTuple,
    NumericIdentifier,
    RemoteStorage,
    RemoteStorageSetup,
    StaticDataTable,
    TSVEncoding,
    WebLocation,
    default_tabular_schema,
)

GRAPHS = [
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

edge = IdentifierTuple(
    name="edge",
    attributes=[
        NumericIdentifier("from_id", comment="the node the edge leaves (FromNodeId)"),
        NumericIdentifier("to_id", comment="the node the edge reaches (ToNodeId)"),
    ],
)


def _graph(name: str) -> StaticDataTable:
    key = name.replace("-", "_").lower()
    remote = RemoteStorage(
        location=WebLocation(address=f"https://snap.stanford.edu/data/{name}.txt.gz"),
        encoding=TSVEncoding(compression=GzipCompression(), header=CSVHeader(num_lines=4)),
        sha256=None,
    )
    return StaticDataTable(
        name=key,
        schema=default_tabular_schema(edge),
        setup=RemoteStorageSetup(remote=remote),
        tag=key,
        comment=f"SNAP graph {name}: https://snap.stanford.edu/data/{name}.html",
    )


snap = DataSet(
    name="snap",
    description="Twelve SNAP graphs (collaboration, web and co-purchasing networks) as edge lists",
    datum_templates=[edge],
    assets=[_graph(name) for name in GRAPHS],
)
