"""Credentials are named by environment variable and read at run time, never inlined.

Every engine (object store, Spark, PostgreSQL, and the lake with AWS credentials
declared) generates code in every dialect; no secret value set in the environment may
appear in any generated file, and each variable is named only where the program reads
it: `os.environ[...]` in a program, or the engine's settings constant that recipes read
the variable named there from.
"""

from __future__ import annotations

import ast
import traceback

import pytest

import aorist
from aorist import (
    AWSConfig,
    EndpointConfig,
    MinioConfig,
    PostgresConfig,
    PostgresLocation,
    PostgresStorage,
    SparkConfig,
    Universe,
    dag,
)

from conftest import CONSTRAINTS
from fixtures_data import snap_dataset

BASE = "http://127.0.0.1:9/data"
DIALECTS = ["python", "airflow", "jupyter", "r", "dagster", "prefect", "hamilton"]

# engine -> (EndpointConfig keyword arguments, {env var name: secret value}, target)
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
        PostgresStorage(location=PostgresLocation(database="d", schema="snap")),
    ),
    "objectstore": (
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
        None,
    ),
    "spark": ({"spark": SparkConfig(master="local[1]")}, {}, None),
    "aws": (
        {"aws": AWSConfig(access_key_env="AWS_KEY_ENV_NAME", secret_key_env="AWS_SECRET_ENV_NAME")},
        {"AWS_KEY_ENV_NAME": "AKIAFAKEVALUE0000", "AWS_SECRET_ENV_NAME": "aws-secret-value-5d2b"},
        None,
    ),
}
# The settings constant naming each engine's variables, where its recipes read them.
SETTINGS = {"postgres": "POSTGRES", "objectstore": "OBJECT_STORE"}


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


def universe_with(kind: str) -> Universe:
    endpoints, _, target = CASES[kind]
    return Universe(
        name="secret_cluster",
        datasets=[snap_dataset(BASE, ["ca-GrQc", "web-Google"], target=target)],
        endpoints=EndpointConfig(**endpoints),
    )


def settings_reads(code: str, constant: str, name: str) -> int:
    """How often ``name`` is the value of a keyword of ``constant = dict(...)``."""
    count = 0
    for node in ast.walk(ast.parse(code)):
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == [constant]
            and isinstance(node.value, ast.Call)
        ):
            count += sum(
                isinstance(k.value, ast.Constant) and k.value.value == name
                for k in node.value.keywords
            )
    return count


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("kind", sorted(CASES))
def test_secrets_are_read_from_the_environment_at_run_time(kind, dialect, monkeypatch):
    _, secrets, _ = CASES[kind]
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    try:
        code = dag(universe_with(kind), CONSTRAINTS, dialect)
    except aorist.AoristError as exc:
        # A dialect that cannot run an engine says so; the message leaks nothing.
        text = "".join(traceback.format_exception(exc)) + repr(exc.args)
        for value in secrets.values():
            assert value not in text, f"{kind}: the error leaks the secret value"
        assert dialect == "r", f"{kind}/{dialect}: {exc}"
        return

    assert isinstance(code, str)
    for name, value in secrets.items():
        assert value not in code, (
            f"{kind}/{dialect}: the secret value of {name} is inlined in the generated code"
        )
    if dialect == "python":
        compile(code, "main.py", "exec")
        for name in secrets:
            reads = allowed_env_reads(code, name) + settings_reads(
                code, SETTINGS.get(kind, ""), name
            )
            assert code.count(name) == reads, (
                f"{kind}: {name} appears {code.count(name)} times but only {reads} are "
                "os.environ[...] reads or the engine's settings"
            )
        if kind in SETTINGS:
            assert "os.environ" in code, (
                f"{kind}: the program reads the engine's variables from the environment"
            )


@pytest.mark.parametrize("kind", sorted(CASES))
def test_secret_values_do_not_leak_into_repr(kind, monkeypatch):
    _, secrets, _ = CASES[kind]
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    text = repr(universe_with(kind))
    for name, value in secrets.items():
        assert name in text, "the repr names the environment variable"
        assert value not in text, "the repr never resolves the secret"


@pytest.mark.parametrize("bad", ["PG PASSWORD", "1PASSWORD", "pass-word", "hunter2-secret"])
def test_env_var_names_are_validated(bad):
    with pytest.raises(aorist.DeclarationError) as info:
        PostgresConfig(server="127.0.0.1", port=5432, username="u", password_env=bad, database="d")
    assert "password_env" in str(info.value)
