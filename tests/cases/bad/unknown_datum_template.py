from aorist import DataSet, NumericIdentifier, RowStruct

from _common import asset

NODE = RowStruct(name="node", attributes=[NumericIdentifier("node_id")])
DataSet(name="graphs", datum_templates=[NODE], assets=[asset("edges")])
