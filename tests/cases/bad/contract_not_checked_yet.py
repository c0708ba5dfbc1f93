# Contracts are checked by the python recipes on the embedded lake; until an R
# script checks them, a universe that declares one is refused there.
from aorist import NumericIdentifier, RowStruct, dag

from _common import asset, universe

checked = [NumericIdentifier("from_id", min=0), NumericIdentifier("to_id")]
edge = RowStruct(name="edge", attributes=checked)
dag(universe(assets=[asset(template=edge)], template=edge), ["AllAssetsComputed"], "r")
