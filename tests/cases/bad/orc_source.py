from aorist import ORCEncoding, dag

from _common import asset, universe

dag(universe(assets=[asset(encoding=ORCEncoding())]), ["AllAssetsComputed"])
