from aorist import DataSet

from _common import EDGE, asset

DataSet(name="graphs", description="caf\udce9", datum_templates=[EDGE], assets=[asset()])
