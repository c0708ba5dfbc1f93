"""Table functions of the SNAP example (`examples/snap_degrees.py`).

Each function receives its source tables as `pyarrow.Table`s, one parameter per role,
and returns a `pyarrow.Table`. aorist copies a function's source, and the imports it
uses, into the generated program, so that program runs without this module.
"""

import pyarrow as pa
import pyarrow.compute as pc


def top_nodes(degrees: pa.Table) -> pa.Table:
    """The five nodes with the most edges out, highest degree first (ties: lower node)."""
    ranked = degrees.sort_by([("degree", "descending"), ("node", "ascending")])
    top = ranked.slice(0, 5)
    return pa.table(
        {
            "rank": pa.array(range(1, top.num_rows + 1), pa.int64()),
            "node": pc.cast(top["node"], pa.int64()),
            "degree": pc.cast(top["degree"], pa.int64()),
        }
    )


def degree_histogram(degrees: pa.Table) -> pa.Table:
    """How many nodes have each out-degree, by degree."""
    counts = pc.value_counts(degrees["degree"])
    histogram = pa.table(
        {
            "degree": pc.cast(counts.field("values"), pa.int64()),
            "nodes": pc.cast(counts.field("counts"), pa.int64()),
        }
    )
    return histogram.sort_by("degree")
