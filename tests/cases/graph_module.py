"""Functions the `derived` case computes tables with (imported, so they can be captured)."""

import pyarrow as pa
import pyarrow.compute as pc


def out_degree(edges: pa.Table) -> pa.Table:
    """Nodes and how many edges leave each."""
    counts = pc.value_counts(edges["from_id"])
    return pa.table(
        {
            "node": counts.field("values"),
            "degree": pc.cast(counts.field("counts"), pa.int64()),
        }
    )
