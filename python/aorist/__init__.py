"""aorist: declare what should be true about your data; get legible code that makes it true.

from aorist import *
code = dag(universe, ["AllAssetsComputed"], "python")
"""

from aorist._api import (
    dag,
    dag_files,
    default_tabular_schema,
    derived_tables,
    explain,
    stage,
)
from aorist._concepts import *  # noqa: F403 - the concept classes are the public API
from aorist._concepts import __all__ as _concept_names
from aorist._dummy import dummy_data, dummy_universe
from aorist.errors import *  # noqa: F403
from aorist.errors import __all__ as _error_names

__all__ = [
    "dag",
    "dag_files",
    "default_tabular_schema",
    "derived_tables",
    "dummy_data",
    "dummy_universe",
    "explain",
    "stage",
    *_concept_names,
    *_error_names,
]
