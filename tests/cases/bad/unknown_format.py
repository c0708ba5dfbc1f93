from aorist import explain

from _common import universe

explain(universe(), ["AllAssetsComputed"], "svg")
