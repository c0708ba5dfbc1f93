# [runtime]
# name = "run_sql"
# language = "python"
# runs = "sql"
# summary = "Runs a DuckDB SQL recipe on the embedded lake, quoting each parameter by its role."
# libraries = ["duckdb"]
# uses = ["lake_lock", "checked_columns", "markers"]

import os
import string

import duckdb


def run_sql(lake_path: str, template: str, /, **params: object) -> None:
    """Run `template` on `<lake_path>/lake.duckdb`; `{name:role}` fields are quoted by role.

    Roles: identifier (a list of name parts), literal, lake_path (a path under the lake),
    struct (a list of [name, type] pairs), checked (a list of [name, type, nullable]:
    the select list converting a staged text column exactly, or failing with the table,
    column, source line and value). No value is ever spliced in unquoted.
    """

    def literal(value: object) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    def identifier(parts: object) -> str:
        names = [parts] if isinstance(parts, str) else list(parts)  # type: ignore[call-overload]
        return ".".join('"' + str(name).replace('"', '""') + '"' for name in names)

    def checked(name: str, kind: str, nullable: bool) -> str:
        where = (
            "__aorist_table || ': column ' || "
            + literal(identifier(name))
            + " || ', line ' || __aorist_line || ': '"
        )
        return checked_column(name, kind, nullable, where)

    class Quoting(string.Formatter):
        def format_field(self, value: object, format_spec: str) -> str:
            if format_spec == "identifier":
                return identifier(value)
            if format_spec == "literal":
                return literal(value)
            if format_spec == "lake_path":
                path = os.path.abspath(os.path.join(lake_path, str(value)))
                files.append(path)
                # DuckDB's COPY does not create directories.
                os.makedirs(os.path.dirname(path), exist_ok=True)
                return literal(path)
            if format_spec == "struct":
                pairs = ", ".join(f"{literal(n)}: {literal(t)}" for n, t in value)  # type: ignore[attr-defined]
                return "{" + pairs + "}"
            if format_spec == "checked":
                return ",\n    ".join(checked(*column) for column in value)  # type: ignore[attr-defined]
            raise ValueError(f"unknown SQL parameter role {format_spec!r}")

    files: list[str] = []
    sql = Quoting().format(template, **params)
    if waits_for_removed(files):
        return
    os.makedirs(lake_path, exist_ok=True)
    with lake_lock(lake_path):
        # Lake files stay readable by the DuckDB 1.5 command-line program (the R
        # dialect's SQL engine): the setting decides the format of a new file.
        connection = duckdb.connect(
            os.path.join(lake_path, "lake.duckdb"),
            config={"storage_compatibility_version": "v1.5.0"},
        )
        try:
            connection.execute(sql).fetchall()
        finally:
            connection.close()
