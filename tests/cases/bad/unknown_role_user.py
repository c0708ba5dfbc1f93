from aorist import RoleBinding, User

from _common import universe

universe(
    users=[User(unixname="alice")], role_bindings=[RoleBinding(user_name="alcie", role="reader")]
)
