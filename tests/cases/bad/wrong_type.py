from aorist import StaticDataTable, default_tabular_schema

from _common import EDGE, asset

StaticDataTable(name=3, schema=default_tabular_schema(EDGE), setup=asset().setup)
