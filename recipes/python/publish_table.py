# [recipe]
# constraint = "TablePublished"
# language = "python"
# entry = "publish_table"
# summary = "The table is published in the lake's DuckDB database, replacing an older version in one transaction: a view over a Parquet file, a table loaded from an ORC file."
# libraries = ["duckdb", "pyarrow"]
# uses = ["lake_publish"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# source = { from = "target.file", doc = "lake-relative path of the Parquet or ORC file" }
# source_format = { from = "target.format", doc = "one of parquet or orc" }
# table = { from = "target.table", doc = "schema and name of the table to create" }
# staging = { from = "staging.table", doc = "staging view, dropped if publishing fails" }


def publish_table(
    lake_path: str,
    source: str,
    source_format: str,
    table: list[str],
    staging: list[str],
) -> None:
    """Publish the rows of lake_path/source as table, unless it holds them already."""
    publish_lake_table(lake_path, source, source_format, table, staging)
