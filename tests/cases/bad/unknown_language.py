from _common import universe
from aorist import dag

dag(universe(), ["AllAssetsComputed"], "python", preferences=["python", "fortran"])
