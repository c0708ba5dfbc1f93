from aorist import DataSet, Universe, User, UserGroup

from _common import EDGE, asset

graphs = DataSet(
    name="graphs",
    datum_templates=[EDGE],
    assets=[asset()],
    access_policies=["readable by the lab", "group:analyst"],
)
Universe(
    name="lab",
    datasets=[graphs],
    users=[User(unixname="alice")],
    groups=[UserGroup(name="analysts", members=["alice"])],
)
