# [recipe]
# constraint = "TemporaryTableDropped"
# language = "python"
# entry = "spark_drop_staging_table"
# summary = "The staging table is dropped from Spark's metastore (its staged files stay, to skip unchanged work next time)."
# libraries = ["pyspark"]
# uses = ["spark_session"]
# when = { engine = ["spark"] }
#
# [recipe.parameters]
# spark = { from = "settings.spark", doc = "the Spark session's settings (master, warehouse_dir, app_name)" }
# table = { from = "staging.table", doc = "database and name of the staging table" }


def spark_drop_staging_table(spark: dict, table: list[str]) -> None:
    """DROP TABLE IF EXISTS the staging table."""
    session = spark_session(spark)
    session.sql(f"DROP TABLE IF EXISTS {spark_quote(*table)}")
