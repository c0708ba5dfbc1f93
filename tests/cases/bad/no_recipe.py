# TemporaryTableCreated has only a SQL recipe (unfused): allowing Python alone cannot bind it.
from aorist import dag

from _common import universe

dag(universe(), ["AllAssetsComputed"], "python", preferences=["python"], fuse=False)
