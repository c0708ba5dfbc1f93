# [recipe]
# constraint = "AssetComputed"
# also = ["AssetAvailable"]
# language = "python"
# entry = "check_table"
# summary = "The lake table exists with the schema's columns in order; its row count is reported."
# libraries = ["duckdb"]
# uses = ["lake_lock"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# table = { from = "target.table", doc = "schema and name of the table" }
# columns = { from = "columns.names", doc = "the column names the schema declares, in order (None: any)" }

import os

import duckdb


def check_table(
    lake_path: str, table: list[str], columns: list[str] | None
) -> str | None:
    """Fail unless table exists with exactly these columns; print its row count.

    `columns` is None for a derived table whose computation decides its columns: the
    table must then exist with at least one column. Returns the version publishing
    recorded for the table (a digest of the file it was loaded from), or None for a
    table no publishing step made: an orchestrator tells a changed table from an
    unchanged one by it.
    """
    schema, name = (str(part) for part in table)
    missing = (
        f"table {schema}.{name} does not exist in the lake {lake_path}: run the program"
        " that computes it first"
    )
    if not os.path.exists(os.path.join(lake_path, "lake.duckdb")):
        raise RuntimeError(missing)
    with lake_lock(lake_path):
        connection = duckdb.connect(
            os.path.join(lake_path, "lake.duckdb"), read_only=True
        )
        try:
            found = connection.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, name],
            ).fetchall()
            actual = [row[0] for row in found]
            if not actual:
                raise RuntimeError(missing)
            if columns is not None and actual != list(columns):
                raise RuntimeError(
                    f"table {schema}.{name} has columns {actual}, expected {list(columns)}"
                )
            quoted = ".".join(
                '"' + part.replace('"', '""') + '"' for part in (schema, name)
            )
            count = connection.execute(f"SELECT count(*) FROM {quoted}").fetchall()[0][
                0
            ]
            recorded = connection.execute(
                "SELECT count(*) FROM duckdb_tables()"
                " WHERE schema_name = '_aorist' AND table_name = 'published'"
            ).fetchall()[0][0]
            version = None
            if recorded:
                rows = connection.execute(
                    "SELECT version FROM _aorist.published"
                    " WHERE lower(table_schema) = lower(?) AND lower(table_name) = lower(?)",
                    [schema, name],
                ).fetchall()
                version = rows[0][0] if rows else None
        finally:
            connection.close()
    print(
        f"{schema}.{name}: {count} rows, columns {', '.join(actual)}\n",
        end="",
        flush=True,
    )
    return version
