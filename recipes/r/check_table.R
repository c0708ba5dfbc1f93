# [recipe]
# # nolint start
# constraint = "AssetComputed"
# also = ["AssetAvailable"]
# language = "r"
# entry = "check_table"
# summary = "The lake table exists with the schema's columns in order; its row count is reported."
# libraries = []
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# table = { from = "target.table", doc = "schema and name of the table" }
# columns = { from = "columns.names", doc = "the column names the schema declares, in order (NULL: any)" }
# # nolint end

check_table <- function(lake_path, table, columns) {
  # Fail unless table exists with exactly these columns; print its row count.
  # Reads lake.duckdb read-only with the duckdb command-line shell (the duckdb
  # executable on PATH; pip install duckdb-cli).
  parts <- as.character(unlist(table))
  if (length(parts) != 2) {
    stop("table must be c(schema, name), got ", deparse(table), call. = FALSE)
  }
  database <- file.path(lake_path, "lake.duckdb")
  if (!file.exists(database)) {
    stop("no lake database at ", database, call. = FALSE)
  }

  # The rows sql prints, as CSV lines without a header.
  query <- function(sql) {
    script <- tempfile(fileext = ".sql")
    errors <- tempfile(fileext = ".txt")
    on.exit(unlink(c(script, errors)), add = TRUE)
    writeLines(sql, script, useBytes = TRUE)
    args <- c("-batch", "-bail", "-no-init", "-readonly", "-csv", "-noheader",
              shQuote(database), "-f", shQuote(script))
    # Without R's LD_LIBRARY_PATH, which can break a launcher written in
    # Python (pip's duckdb-cli).
    out <- suppressWarnings(system2(
      "duckdb", args,
      stdout = TRUE, stderr = errors, env = "LD_LIBRARY_PATH="
    ))
    if (!is.null(attr(out, "status"))) {
      stop("duckdb failed on ", database, ":\n",
           paste(readLines(errors, warn = FALSE), collapse = "\n"),
           call. = FALSE)
    }
    out
  }
  literal <- function(text) {
    paste0("'", gsub("'", "''", text, fixed = TRUE), "'")
  }
  listing <- function(names) {
    paste0("[", paste(names, collapse = ", "), "]")
  }

  found <- query(paste0(
    "SELECT column_name FROM information_schema.columns",
    " WHERE table_schema = ", literal(parts[[1]]),
    " AND table_name = ", literal(parts[[2]]),
    " ORDER BY ordinal_position;"
  ))
  actual <- character(0)
  if (length(found) > 0) {
    # encoding = "bytes": the names are read as the UTF-8 bytes DuckDB wrote.
    lines <- textConnection(found, encoding = "bytes")
    on.exit(close(lines), add = TRUE)
    actual <- utils::read.csv(
      lines,
      header = FALSE, colClasses = "character", na.strings = character(0),
      comment.char = "", strip.white = FALSE
    )[[1]]
    Encoding(actual) <- "UTF-8"
  }
  # Names in the native encoding are taken to be UTF-8, as DuckDB's are.
  # NULL columns: a derived table whose computation decides its columns.
  expected <- if (is.null(columns)) actual else as.character(unlist(columns))
  Encoding(expected)[Encoding(expected) == "unknown"] <- "UTF-8"
  name <- paste(parts, collapse = ".")
  if (length(actual) == 0 || !identical(actual, expected)) {
    stop("table ", name, " has columns ", listing(actual), ", expected ",
         listing(expected), call. = FALSE)
  }
  quoted <- paste0("\"", gsub("\"", "\"\"", parts, fixed = TRUE), "\"",
                   collapse = ".")
  count <- query(paste0("SELECT count(*) FROM ", quoted, ";"))
  report <- paste0(name, ": ", count[[1]], " rows, columns ",
                   paste(actual, collapse = ", "))
  writeLines(report, useBytes = TRUE)
  invisible(as.numeric(count[[1]]))
}
