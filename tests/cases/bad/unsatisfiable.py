# Nothing in this universe is compressed, so Decompressed attaches nowhere.
from _common import universe
from aorist import dag

dag(universe(), ["Decompressed"])
