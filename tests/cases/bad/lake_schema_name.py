from aorist import DataSet

from _common import EDGE, asset

DataSet(name="_aorist", datum_templates=[EDGE], assets=[asset("published")])
