# [helper]
# # nolint start
# name = "duckdb_cli"
# language = "r"
# summary = "Runs SQL on the lake's database with the DuckDB command-line program and returns what it printed."
# libraries = []
# # nolint end

duckdb_cli <- function(database, sql, read_only = FALSE) {
  # Run sql on database with the duckdb command-line program (the duckdb
  # executable on PATH), stopping at the first error. Returns a list: status
  # (0 when every statement succeeded), rows (what the statements print, as
  # CSV lines without a header) and errors (the error output, one string).
  script <- tempfile(fileext = ".sql")
  errors <- tempfile(fileext = ".txt")
  on.exit(unlink(c(script, errors)), add = TRUE)
  writeLines(sql, script, useBytes = TRUE)
  args <- c("-batch", "-bail", "-no-init", if (read_only) "-readonly",
            "-csv", "-noheader", shQuote(database), "-f", shQuote(script))
  # R puts its own library directories first in LD_LIBRARY_PATH; a duckdb
  # launcher run by another Python (pip's duckdb-cli) could then load the
  # wrong libpython. The shell needs none of them.
  rows <- suppressWarnings(system2(
    "duckdb", args,
    stdout = TRUE, stderr = errors, env = "LD_LIBRARY_PATH="
  ))
  status <- attr(rows, "status")
  attr(rows, "status") <- NULL
  said <- if (file.exists(errors)) readLines(errors, warn = FALSE) else ""
  list(status = if (is.null(status)) 0L else status, rows = rows,
       errors = paste(said, collapse = "\n"))
}

sql_literal <- function(text) {
  # text as a SQL string literal.
  paste0("'", gsub("'", "''", text, fixed = TRUE), "'")
}

sql_identifier <- function(parts) {
  # Name parts as a quoted, dotted SQL identifier.
  paste0("\"", gsub("\"", "\"\"", as.character(unlist(parts)), fixed = TRUE),
         "\"", collapse = ".")
}
