from aorist import stage

from _common import universe

stage(universe(), ["AllAssetsComputed"], "optimised")
