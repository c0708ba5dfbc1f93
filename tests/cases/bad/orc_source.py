from _common import asset, universe
from aorist import ORCEncoding, dag

dag(universe(assets=[asset(encoding=ORCEncoding())]), ["AllAssetsComputed"])
