from aorist import StaticDataTable, default_tabular_schema

from _common import EDGE

StaticDataTable(name="edges", schema=default_tabular_schema(EDGE))
