# TemporaryTableCreated has only a SQL recipe; allowing Python alone cannot bind it.
from _common import universe
from aorist import dag

dag(universe(), ["AllAssetsComputed"], "python", preferences=["python"])
