from _common import EDGE, asset
from aorist import DataSet

DataSet(
    name="graphs", datum_templates=[EDGE], assets=[asset("edges"), asset("nodes"), asset("edges")]
)
