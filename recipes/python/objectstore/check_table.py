# [recipe]
# constraint = "AssetComputed"
# also = ["AssetAvailable"]
# language = "python"
# entry = "objectstore_check_table"
# summary = "The table's object in the bucket has the schema's columns in order; its row count is reported."
# libraries = ["pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# table = { from = "target.table", doc = "schema and name of the table" }
# columns = { from = "columns.names", doc = "the column names the schema declares, in order (None: any)" }
# target = { from = "target.file", doc = "bucket key of the table file" }


def objectstore_check_table(
    config: dict, table: list, columns: list | None, target: str
) -> str | None:
    """Fail unless the table exists with exactly these columns; print its row count.

    Returns the version publishing recorded in the table's marker (None without one):
    an orchestrator tells a changed table from an unchanged one by it.
    """
    schema, name = (str(part) for part in table)
    con = s3_catalog(config, [[schema, name]], [target])
    try:
        found = con.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
        actual = [row[0] for row in found]
        if not actual if columns is None else actual != list(columns):
            raise RuntimeError(
                f"table {schema}.{name} has columns {actual}, expected "
                f"{'some' if columns is None else list(columns)}; fix: run the "
                "program again to publish the table from the declared schema"
            )
        quoted = ".".join('"' + p.replace('"', '""') + '"' for p in (schema, name))
        count = con.execute(f"SELECT count(*) FROM {quoted}").fetchall()[0][0]
    finally:
        con.close()
    print(
        f"{schema}.{name}: {count} rows, columns {', '.join(actual)}\n",
        end="",
        flush=True,
    )
    return s3_read_text(config, target + ".done").split("\n")[0] or None
