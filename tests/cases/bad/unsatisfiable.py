# Nothing in this universe is compressed, so Decompressed attaches nowhere.
from aorist import dag

from _common import universe

dag(universe(), ["Decompressed"])
