# [recipe]
# # nolint start
# constraint = "TablePublished"
# language = "r"
# entry = "publish_table"
# summary = "The table is published in the lake's DuckDB database as a view over its Parquet file, replacing an older version in one transaction."
# libraries = []
# uses = ["lake_publish"]
# when = { engine = ["lake"], "target.format" = ["parquet"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# source = { from = "target.file", doc = "lake-relative path of the Parquet file" }
# source_format = { from = "target.format", doc = "parquet (the duckdb program reads no ORC)" }
# table = { from = "target.table", doc = "schema and name of the table to create" }
# staging = { from = "staging.table", doc = "staging view, dropped if publishing fails" }
# # nolint end

publish_table <- function(lake_path, source, source_format, table,
                          staging) {
  # Publish the rows of lake_path/source as table (a view over the file),
  # unless it holds them already; see publish_parquet_view().
  if (!identical(source_format, "parquet")) {
    stop("unknown source format '", source_format, "': the R recipe ",
         "reads parquet (use the Python recipe for orc)", call. = FALSE)
  }
  publish_parquet_view(lake_path, source, table, staging)
}
