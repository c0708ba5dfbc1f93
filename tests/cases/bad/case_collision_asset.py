from aorist import DataSet

from _common import EDGE, asset

DataSet(name="graphs", datum_templates=[EDGE], assets=[asset("edges"), asset("EDGES")])
