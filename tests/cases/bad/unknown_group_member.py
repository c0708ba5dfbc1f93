from aorist import User, UserGroup

from _common import universe

universe(
    users=[User(unixname="alice"), User(unixname="bob")],
    groups=[UserGroup(name="analysts", members=["alice", "bobb"])],
)
