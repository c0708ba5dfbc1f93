"""Credentials are named by environment variable and read at run time, never inlined.

Endpoints other than the embedded lake may not be supported yet: then ``dag`` must fail
with a ``PlanningError`` whose message does not leak the secret either.
"""

from __future__ import annotations

import ast
import traceback

import pytest

import aorist
from aorist import AWSConfig, EndpointConfig, MinioConfig, PostgresConfig, Universe, dag

from conftest import CONSTRAINTS
from fixtures_data import snap_dataset

BASE = "http://127.0.0.1:9/data"

# endpoint kind -> (EndpointConfig keyword arguments, {env var name: secret value})
CASES = {
    "postgres": (
        {
            "postgres": PostgresConfig(
                server="127.0.0.1",
                port=5432,
                username="u",
                password_env="PG_PASSWORD_SECRET_NAME",
                database="d",
            )
        },
        {"PG_PASSWORD_SECRET_NAME": "hunter2-secret"},
    ),
    "minio": (
        {
            "minio": MinioConfig(
                server="127.0.0.1",
                port=9000,
                bucket="lake",
                access_key_env="MINIO_KEY_NAME",
                secret_key_env="MINIO_SECRET_NAME",
            )
        },
        {
            "MINIO_KEY_NAME": "minio-access-value-7f3a",
            "MINIO_SECRET_NAME": "minio-secret-value-9c1e",
        },
    ),
    "aws": (
        {"aws": AWSConfig(access_key_env="AWS_KEY_ENV_NAME", secret_key_env="AWS_SECRET_ENV_NAME")},
        {"AWS_KEY_ENV_NAME": "AKIAFAKEVALUE0000", "AWS_SECRET_ENV_NAME": "aws-secret-value-5d2b"},
    ),
}


def _is_environ(node: ast.expr) -> bool:
    """``os.environ`` or a bare ``environ`` (from ``from os import environ``)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "environ"


def _is_env_reader(func: ast.expr) -> bool:
    """``os.environ.get``, ``environ.get``, ``os.getenv`` or ``getenv``."""
    if isinstance(func, ast.Attribute):
        if func.attr == "get" and _is_environ(func.value):
            return True
        return func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os"
    return isinstance(func, ast.Name) and func.id == "getenv"


def allowed_env_reads(code: str, name: str) -> int:
    """How often ``name`` is read as ``os.environ[name]``, ``.get(name)`` or ``getenv(name)``."""
    count = 0
    for node in ast.walk(ast.parse(code)):
        key: ast.expr | None = None
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            key = node.slice
        elif isinstance(node, ast.Call) and _is_env_reader(node.func) and node.args:
            key = node.args[0]
        if isinstance(key, ast.Constant) and key.value == name:
            count += 1
    return count


def universe_with(endpoints: dict) -> Universe:
    return Universe(
        name="secret_cluster",
        datasets=[snap_dataset(BASE, ["ca-GrQc", "web-Google"])],
        endpoints=EndpointConfig(**endpoints),
    )


@pytest.mark.parametrize("kind", sorted(CASES))
def test_secrets_are_read_from_the_environment_at_run_time(kind, monkeypatch):
    endpoints, secrets = CASES[kind]
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    universe = universe_with(endpoints)

    try:
        code = dag(universe, CONSTRAINTS, "python")
    except aorist.AoristError as exc:
        assert isinstance(exc, aorist.PlanningError), (
            f"{kind}: expected a PlanningError, got {exc!r}"
        )
        text = "".join(traceback.format_exception(exc)) + repr(exc.args)
        for value in secrets.values():
            assert value not in text, f"{kind}: the error leaks the secret value"
        return

    assert isinstance(code, str)
    compile(code, "main.py", "exec")
    for name, value in secrets.items():
        assert value not in code, (
            f"{kind}: the secret value of {name} is inlined in the generated code"
        )
        reads = allowed_env_reads(code, name)
        assert code.count(name) == reads, (
            f"{kind}: {name} appears {code.count(name)} times but only {reads} are "
            "os.environ[...] / os.environ.get(...) / os.getenv(...) reads"
        )


@pytest.mark.parametrize("kind", sorted(CASES))
def test_secret_values_do_not_leak_into_repr(kind, monkeypatch):
    endpoints, secrets = CASES[kind]
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    text = repr(universe_with(endpoints))
    for name, value in secrets.items():
        assert name in text, "the repr names the environment variable"
        assert value not in text, "the repr never resolves the secret"


@pytest.mark.parametrize("bad", ["PG PASSWORD", "1PASSWORD", "pass-word", "hunter2-secret"])
def test_env_var_names_are_validated(bad):
    with pytest.raises(aorist.DeclarationError) as info:
        PostgresConfig(server="127.0.0.1", port=5432, username="u", password_env=bad, database="d")
    assert "password_env" in str(info.value)
