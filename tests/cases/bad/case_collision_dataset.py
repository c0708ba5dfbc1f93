from aorist import DataSet, Universe

from _common import EDGE, asset

Universe(
    name="lab",
    datasets=[
        DataSet(name="g", datum_templates=[EDGE], assets=[asset()]),
        DataSet(name="G", datum_templates=[EDGE], assets=[asset()]),
    ],
)
