# [recipe]
# constraint = "AssetComputed"
# language = "python"
# entry = "check_table"
# summary = "The lake table exists with the schema's columns in order; its row count is reported."
# libraries = ["duckdb"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# table = { from = "target.table", doc = "schema and name of the table" }
# columns = { from = "columns.names", doc = "the column names the schema declares, in order (None: any)" }

import os

import duckdb


def check_table(lake_path: str, table: list[str], columns: list[str] | None) -> None:
    """Fail unless table exists with exactly these columns; print its row count.

    `columns` is None for a derived table whose computation decides its columns: the
    table must then exist with at least one column.
    """
    schema, name = (str(part) for part in table)
    connection = duckdb.connect(os.path.join(lake_path, "lake.duckdb"), read_only=True)
    try:
        found = connection.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
        actual = [row[0] for row in found]
        if not actual if columns is None else actual != list(columns):
            raise RuntimeError(
                f"table {schema}.{name} has columns {actual}, expected "
                f"{'some' if columns is None else list(columns)}"
            )
        quoted = ".".join(
            '"' + part.replace('"', '""') + '"' for part in (schema, name)
        )
        count = connection.execute(f"SELECT count(*) FROM {quoted}").fetchall()[0][0]
    finally:
        connection.close()
    print(f"{schema}.{name}: {count} rows, columns {', '.join(actual)}", flush=True)
