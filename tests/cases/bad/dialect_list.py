from aorist import dag

from _common import universe

dag(universe(), ["AllAssetsComputed"], ["python"])
