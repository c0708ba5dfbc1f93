# [recipe]
# constraint = "AssetComputed"
# also = ["AssetAvailable"]
# language = "python"
# entry = "spark_check_table"
# summary = "The Spark table exists with the schema's columns in order; its row count is reported."
# libraries = ["pyspark"]
# uses = ["spark_session"]
# when = { engine = ["spark"] }
#
# [recipe.parameters]
# spark = { from = "settings.spark", doc = "the Spark session's settings (master, warehouse_dir, app_name)" }
# table = { from = "target.table", doc = "database and name of the table" }
# columns = { from = "columns.names", doc = "the column names the schema declares, in order (None: any)" }


def spark_check_table(
    spark: dict, table: list[str], columns: list[str] | None
) -> str | None:
    """Fail unless the table exists with exactly these columns; print its row count.

    `columns` is None for a derived table whose computation decides its columns: the
    table must then exist with at least one column. Returns the version publishing
    recorded in TBLPROPERTIES ('aorist.version') (None without one): an orchestrator
    tells a changed table from an unchanged one by it.
    """
    schema, name = (str(part) for part in table)
    session = spark_session(spark)
    if not session.catalog.tableExists(spark_quote(schema, name)):
        raise RuntimeError(
            f"table {schema}.{name} does not exist in Spark's metastore; fix: run the "
            "program again so that its TablePublished step creates it"
        )
    frame = session.table(spark_quote(schema, name))
    actual = list(frame.columns)
    if not actual if columns is None else actual != list(columns):
        raise RuntimeError(
            f"table {schema}.{name} has columns {actual}, expected "
            f"{'some' if columns is None else list(columns)}"
        )
    count = frame.count()
    properties = {
        row[0]: row[1]
        for row in session.sql(
            f"SHOW TBLPROPERTIES {spark_quote(schema, name)}"
        ).collect()
    }
    print(
        f"{schema}.{name}: {count} rows, columns {', '.join(actual)}\n",
        end="",
        flush=True,
    )
    return properties.get("aorist.version")
