# [recipe]
# constraint = "TablePublished"
# language = "python"
# entry = "spark_publish_table"
# summary = "The table <dataset>.<asset> of Spark's Hive metastore, STORED AS ORC or Parquet, points at the newest version directory (created there, or moved there in one metastore operation); older versions are removed after."
# libraries = ["pyspark"]
# uses = ["markers", "spark_session"]
# when = { engine = ["spark"] }
#
# [recipe.parameters]
# spark = { from = "settings.spark", doc = "the Spark session's settings (master, warehouse_dir, app_name)" }
# source = { from = "target.file", doc = "warehouse-relative directory holding the table's versions" }
# source_format = { from = "target.format", doc = "one of parquet or orc" }
# table = { from = "target.table", doc = "database and name of the table to publish" }
# staging = { from = "staging.table", doc = "staging table, dropped if publishing fails" }


def spark_publish_table(
    spark: dict, source: str, source_format: str, table: list[str], staging: list[str]
) -> None:
    """Point the table at the version directory the last conversion wrote.

    The version is recorded in TBLPROPERTIES ('aorist.version'): a table already at it
    is left alone. A new table is created with LOCATION the version directory; an
    existing one with the same columns moves there by ALTER TABLE ... SET LOCATION,
    one metastore operation, so readers see the old rows or the new, never a mix.
    """
    if source_format not in ("parquet", "orc"):
        raise ValueError(
            f"unknown source format {source_format!r}: expected parquet or orc"
        )
    schema, name = (str(part) for part in table)
    session = spark_session(spark)
    root = spark_location(spark, source)
    lines = spark_marker(session, root).split("\n")
    task = TASK.get()
    if task is not None and task.dry_run:
        # Up to date when the table is at the version the conversion wrote.
        quoted = spark_quote(schema, name)
        found = None
        if len(lines) > 2 and session.catalog.tableExists(quoted):
            found = {
                row[0]: row[1]
                for row in session.sql(f"SHOW TBLPROPERTIES {quoted}").collect()
            }.get("aorist.version")
        if found is not None and found == lines[2]:
            report_output("fresh")
        else:
            task.found("missing" if found is None else "stale", CHANGED)
        return
    if (
        len(lines) < 3
        or not lines[2]
        or not spark_exists(session, f"{root}/{lines[2]}")
    ):
        raise RuntimeError(
            f"{schema}.{name}: no converted version under {root}; fix: run the "
            "program again so that its ConvertedToTargetEncoding step writes one"
        )
    version = lines[2]
    location = f"{root}/{version}"
    quoted = spark_quote(schema, name)
    try:
        fields = session.read.format(source_format).load(location).schema.fields
        declared = [
            f"{spark_quote(f.name)} {f.dataType.simpleString().upper()}" for f in fields
        ]
        columns = ", ".join(declared)
        exists = session.catalog.tableExists(quoted)
        if exists:
            properties = {
                row[0]: row[1]
                for row in session.sql(f"SHOW TBLPROPERTIES {quoted}").collect()
            }
            current = [
                f"{spark_quote(c.name)} {c.dataType.upper()}"
                for c in session.catalog.listColumns(quoted)
            ]
            formats = session.sql(f"DESCRIBE FORMATTED {quoted}").collect()
            serde = " ".join(
                str(row[1]) for row in formats if row[0] == "Serde Library"
            )
            same_format = source_format in serde.lower()
            if properties.get("aorist.version") == version:
                report_output("fresh")
                return
            if current != declared or not same_format:
                # Other columns or format: the table is made again (two operations).
                session.sql(f"DROP TABLE {quoted}")
                exists = False
        if exists:
            session.sql(f"ALTER TABLE {quoted} SET LOCATION {spark_literal(location)}")
            session.sql(
                f"ALTER TABLE {quoted} SET TBLPROPERTIES "
                f"('aorist.version' = {spark_literal(version)})"
            )
        else:
            session.sql(f"CREATE DATABASE IF NOT EXISTS {spark_quote(schema)}")
            session.sql(
                f"CREATE TABLE {quoted} ({columns}) STORED AS {source_format.upper()} "
                f"LOCATION {spark_literal(location)} "
                f"TBLPROPERTIES ('aorist.version' = {spark_literal(version)})"
            )
    except Exception:
        # A failed step leaves no staging table behind.
        session.sql(f"DROP TABLE IF EXISTS {spark_quote(*staging)}")
        raise
    # Readers now use the new version: the older ones (and abandoned temporaries) go.
    for child in spark_children(session, root):
        if child != version and (child.startswith("v-") or child.startswith("_tmp-")):
            spark_delete(session, f"{root}/{child}")
    report_published(version)
