"""A module whose annotations are not evaluated where it is defined (PEP 563)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    import pandas


def annotated_with_a_type_checking_import(edges: pandas.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(edges)
