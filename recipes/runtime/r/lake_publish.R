# [helper]
# # nolint start
# name = "lake_publish"
# language = "r"
# summary = "Publishes a Parquet file of the lake as a view in its DuckDB database, replacing an older version in one transaction."
# libraries = []
# uses = ["markers", "duckdb_cli"]
# # nolint end

publish_parquet_view <- function(lake_path, source, table, staging) {
  # Publish the rows of lake_path/source as the view table, unless it holds
  # them already. _aorist.published records, per table, the marker of the
  # file it was loaded from: a table made from an older file is replaced, in
  # the same transaction that updates the record, so readers see the old rows
  # or the new, never a mix. The staging view is dropped if publishing fails.
  source_format <- "parquet"
  parts <- as.character(unlist(table))
  if (length(parts) != 2) {
    stop("table must be c(schema, name), got ", deparse(table), call. = FALSE)
  }
  path <- file.path(lake_path, source)
  if (!file.exists(path)) {
    stop("no file ", path, " to publish", call. = FALSE)
  }
  absolute <- file.path(normalizePath(dirname(path)), basename(path))
  # The file's place is part of the version: a moved lake points its views anew.
  version <- step_key(list("publish_table", source_format, marker_text(path),
                           absolute))
  database <- file.path(lake_path, "lake.duckdb")
  sql <- function(...) {
    done <- duckdb_cli(database, paste0(...))
    if (done$status != 0) {
      stop("duckdb failed on ", database, ":\n", done$errors, call. = FALSE)
    }
    done$rows
  }
  named <- function(column) {
    paste0("lower(", column, ") = lower(", sql_literal(parts), ")")
  }

  found <- sql(
    "CREATE SCHEMA IF NOT EXISTS _aorist;\n",
    "CREATE TABLE IF NOT EXISTS _aorist.published (table_schema VARCHAR, ",
    "table_name VARCHAR, version VARCHAR, ",
    "PRIMARY KEY (table_schema, table_name));\n",
    "CREATE TABLE IF NOT EXISTS _aorist.steps (task VARCHAR PRIMARY KEY, ",
    "version VARCHAR, outcome VARCHAR, finished_at TIMESTAMPTZ);\n",
    "SELECT t.table_type || '|' || coalesce(p.version, '')",
    " FROM information_schema.tables t LEFT JOIN _aorist.published p",
    " ON lower(t.table_schema) = lower(p.table_schema)",
    " AND lower(t.table_name) = lower(p.table_name)",
    " WHERE ", named("t.table_schema")[[1]],
    " AND ", named("t.table_name")[[2]], ";"
  )
  if (identical(found, paste0("VIEW|", version))) {
    markers_found("fresh", version)
    return(invisible(FALSE))
  }
  # DuckDB replaces an object only by one of its kind: an older table goes.
  drop <- if (length(found) == 1 && startsWith(found, "VIEW|")) {
    paste0("DROP VIEW ", sql_identifier(parts), ";\n")
  } else if (length(found) == 1 && nzchar(found)) {
    paste0("DROP TABLE ", sql_identifier(parts), ";\n")
  } else {
    ""
  }
  # -bail stops at the first error: the transaction is never committed, and
  # a failed step leaves no staging view behind.
  on.exit(if (!published) {
    duckdb_cli(database, paste0(
      "DROP VIEW IF EXISTS ", sql_identifier(as.character(unlist(staging))), ";"
    ))
  })
  published <- FALSE
  task_name <- markers_task_name(paste(parts, collapse = "."))
  sql(
    "BEGIN TRANSACTION;\n",
    "CREATE SCHEMA IF NOT EXISTS ", sql_identifier(parts[[1]]), ";\n",
    drop,
    "CREATE VIEW ", sql_identifier(parts), " AS ",
    "SELECT * FROM read_parquet(", sql_literal(absolute), ");\n",
    "INSERT OR REPLACE INTO _aorist.published VALUES (",
    paste(sql_literal(c(parts, version)), collapse = ", "), ");\n",
    # The step's version and outcome, in the transaction that publishes.
    "INSERT OR REPLACE INTO _aorist.steps VALUES (",
    paste(sql_literal(c(task_name, version)), collapse = ", "),
    ", 'published', current_timestamp);\n",
    "COMMIT;"
  )
  published <- TRUE
  task <- markers_found("made", version)
  task$published <- TRUE
  invisible(TRUE)
}

lake_record_steps <- function(lake_path, records) {
  # Record the rows of records (task, version, outcome: the steps a run made
  # or that failed; a published table's step recorded itself) in
  # _aorist.steps, in one transaction.
  database <- file.path(lake_path, "lake.duckdb")
  rows <- vapply(records, function(row) {
    paste0("(", paste(sql_literal(row), collapse = ", "),
           ", current_timestamp)")
  }, "")
  done <- duckdb_cli(database, paste0(
    "BEGIN TRANSACTION;\n",
    "CREATE SCHEMA IF NOT EXISTS _aorist;\n",
    "CREATE TABLE IF NOT EXISTS _aorist.steps (task VARCHAR PRIMARY KEY, ",
    "version VARCHAR, outcome VARCHAR, finished_at TIMESTAMPTZ);\n",
    "INSERT OR REPLACE INTO _aorist.steps VALUES ",
    paste(rows, collapse = ", "), ";\n",
    "COMMIT;"
  ))
  if (done$status != 0) {
    stop("duckdb failed on ", database, ":\n", done$errors, call. = FALSE)
  }
  invisible(TRUE)
}
