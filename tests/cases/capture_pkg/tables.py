"""Table functions importing from their own package with relative imports."""

import pyarrow as pa

from . import helpers
from . import helpers as h
from .helpers import first_rows


def relative(edges: pa.Table) -> pa.Table:
    return helpers.first_rows(h.first_rows(first_rows(edges)))
