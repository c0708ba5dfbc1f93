# [recipe]
# constraint = "TemporaryTableCreated"
# language = "python"
# entry = "spark_create_staging_table"
# summary = "A staging table of Spark's metastore reads the staged directory: CSV with every declared column as STRING, or Parquet whose columns are checked against the declared schema."
# libraries = ["pyspark"]
# uses = ["spark_session"]
# when = { engine = ["spark"] }
#
# [recipe.parameters]
# spark = { from = "settings.spark", doc = "the Spark session's settings (master, warehouse_dir, app_name)" }
# table = { from = "staging.table", doc = "database and name of the staging table" }
# staged = { from = "staging.file", doc = "warehouse-relative staged directory" }
# staged_format = { from = "staging.format", doc = "csv (a replicated file) or parquet (computed rows)" }
# columns = { from = "columns.spark", doc = "[name, Spark type, nullable] per declared column, or None" }
# asset = { from = "asset.name", doc = "asset name, for error messages" }
# dataset = { from = "dataset.name", doc = "dataset name, for error messages" }


def spark_create_staging_table(
    spark: dict,
    table: list[str],
    staged: str,
    staged_format: str,
    columns: list[list] | None,
    asset: str,
    dataset: str,
) -> None:
    """(Re)create the staging table over <warehouse>/staged.

    CSV: header-less, RFC 4180 quoting, each declared column read as STRING (the next
    step converts them exactly). Parquet: its columns (names, order, Spark types) must
    be the declared ones, unless the schema is undefined (columns None).
    """
    if staged_format not in ("csv", "parquet"):
        raise ValueError(
            f"unknown staging format {staged_format!r}: expected csv or parquet"
        )
    session = spark_session(spark)
    location = spark_location(spark, staged)
    name = spark_quote(*table)
    if staged_format == "parquet" and columns is not None:
        found = [
            f"{field.name} {field.dataType.simpleString().upper()}"
            for field in session.read.parquet(location).schema.fields
        ]
        declared = [f"{column} {kind}" for column, kind, _ in columns]
        if found != declared:
            raise ValueError(
                f"{dataset}.{asset}: the computed columns ({', '.join(found)}) differ "
                f"from the declared schema ({', '.join(declared)}); fix: make the "
                "computation return the declared columns in this order and with these "
                "types (e.g. CAST(x AS DOUBLE) AS x), or declare the schema it returns"
            )
    session.sql(f"CREATE DATABASE IF NOT EXISTS {spark_quote(table[0])}")
    session.sql(f"DROP TABLE IF EXISTS {name}")
    if staged_format == "csv":
        if columns is None:
            raise ValueError(
                f"{dataset}.{asset}: a replicated table needs a declared schema; fix: "
                "declare its columns (default_tabular_schema(template))"
            )
        text = ", ".join(f"{spark_quote(column)} STRING" for column, _, _ in columns)
        session.sql(
            f"CREATE TABLE {name} ({text}) USING csv OPTIONS (path "
            f"{spark_literal(location)}, header 'false', sep ',', quote '\"', "
            "escape '\"', multiLine 'true', mode 'FAILFAST')"
        )
    else:
        session.sql(
            f"CREATE TABLE {name} USING parquet OPTIONS (path {spark_literal(location)})"
        )
