from _common import EDGE, asset
from aorist import StaticDataTable, default_tabular_schema

StaticDataTable(name=3, schema=default_tabular_schema(EDGE), setup=asset().setup)
