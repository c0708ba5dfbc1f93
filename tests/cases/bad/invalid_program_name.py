from _common import universe
from aorist import dag

dag(universe(), ["AllAssetsComputed"], name="my flow; rm -rf /")
