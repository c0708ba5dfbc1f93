"""Hamilton-style table functions over the `graphs` dataset of the derived-table tests.

Each public function is a table named after it; each parameter names the table of the
same dataset it reads: `edges` is replicated, `hubs` is SQL-derived, `in_degree` is the
table of the function above. Helpers and constants that are private, imported or not
functions are not tables.
"""

from collections import Counter
from collections import Counter as Tally  # noqa: F401 - an import no function uses

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from graph_module import out_degree  # noqa: F401 - imported, so not a table of this module
from pyarrow import Table

MINIMUM_DEGREE = 1  # a constant: not a table


def in_degree(edges: pa.Table) -> pa.Table:
    """Nodes and how many edges arrive at each.

    The rest of a docstring stays out of the asset's comment.
    """
    counts = Counter(edges.column("to_id").to_pylist())
    nodes = sorted(counts)
    return pa.table(
        {
            "node": pa.array(nodes, pa.int64()),
            "in_degree": pa.array([counts[n] for n in nodes], pa.int64()),
        }
    )


def hub_in_degree(hubs: Table, in_degree: Table) -> Table:
    """In-degrees of the hubs: a function of a SQL table and of another function's table."""
    wanted = pc.is_in(in_degree["node"], value_set=pc.cast(hubs["node"], pa.int64()))
    return in_degree.filter(wanted).sort_by("node")


def edge_summary(edges: pa.Table) -> pd.DataFrame:
    """One row: the number of edges and of distinct source nodes (a pandas result)."""
    frame = edges.to_pandas()
    return pd.DataFrame({"edges": [len(frame)], "sources": [frame["from_id"].nunique()]})


def _private_helper(edges: pa.Table) -> pa.Table:
    """Private: not a table."""
    return edges


class NotATable:
    """A class: not a table."""
