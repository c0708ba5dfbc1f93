from aorist import JSONEncoding, dag

from _common import asset, universe

dag(universe(assets=[asset(encoding=JSONEncoding())]), ["AllAssetsComputed"])
