from aorist import DataSet, NumericIdentifier, RowStruct

from _common import EDGE, asset

OTHER = RowStruct(name="Edge", attributes=[NumericIdentifier("node")])
DataSet(name="graphs", datum_templates=[EDGE, OTHER], assets=[asset()])
