# [runtime]
# # nolint start
# name = "run_sql"
# language = "r"
# runs = "sql"
# summary = "Runs a DuckDB SQL recipe on the lake with the duckdb command-line shell, quoting each parameter by its role."
# libraries = []
# uses = ["checked_columns"]
# # nolint end

run_sql <- function(lake_path, template, ...) {
  # Run template on <lake_path>/lake.duckdb with the duckdb command-line shell
  # (the duckdb executable on PATH; pip install duckdb-cli). Each {name:role}
  # field takes the value of the argument `name` in ..., quoted by its role:
  #   identifier  a character vector of name parts      -> "a"."b"
  #   literal     a string, number, logical, NULL or NA -> 'it''s', 42, NULL
  #   lake_path   a path under lake_path (its directory is created)
  #               -> '/absolute/path'
  #   struct      a list of c(name, type) pairs, or a named character vector
  #               -> {'name': 'TYPE', ...}
  #   checked     a list of list(name, type, nullable): the select list
  #               converting each staged text column exactly, or failing
  #               (DuckDB's error()) with the table, column, source line and
  #               value; it reads __aorist_table and __aorist_line
  # {{ and }} stand for { and }. No value is ever spliced in unquoted.
  # Fails with the shell's error output; returns the rows the statements
  # print, as CSV lines without a header, invisibly.
  params <- list(...)

  literal <- function(value) {
    kind <- if (is.na(c(value, NA)[[1]])) "NULL" else class(value)[[1]]
    switch(kind,
      "NULL" = "NULL",
      logical = if (value) "TRUE" else "FALSE",
      integer = ,
      numeric = as.character(value),
      paste0("'", gsub("'", "''", as.character(value), fixed = TRUE), "'")
    )
  }

  identifier <- function(parts) {
    parts <- as.character(unlist(parts))
    if (length(parts) == 0 || anyNA(parts)) {
      stop("an identifier needs one or more names", call. = FALSE)
    }
    paste0("\"", gsub("\"", "\"\"", parts, fixed = TRUE), "\"",
           collapse = ".")
  }

  lake_file <- function(value) {
    path <- as.character(value)
    absolute <- grepl("^(/|[A-Za-z]:[/\\\\])", path)
    path <- if (absolute) path else file.path(lake_path, path)
    dir.create(dirname(path), recursive = TRUE, showWarnings = FALSE)
    literal(file.path(normalizePath(dirname(path)), basename(path)))
  }

  struct <- function(pairs) {
    if (!is.null(names(pairs))) {
      pairs <- Map(c, names(pairs), pairs)
    }
    fields <- vapply(pairs, function(pair) {
      paste0(literal(pair[[1]]), ": ", literal(pair[[2]]))
    }, "")
    paste0("{", paste(fields, collapse = ", "), "}")
  }

  checked <- function(columns) {
    paste(vapply(columns, function(spec) {
      column <- identifier(as.character(spec[[1]]))
      checked_column(spec, paste0("__aorist_table || ': column ' || ",
                                  literal(column),
                                  " || ', line ' || __aorist_line || ': '"))
    }, ""), collapse = ",\n    ")
  }

  render <- function(token) {
    field <- regmatches(token, regexec("^\\{(\\w+):(\\w+)\\}$", token,
                                       perl = TRUE))[[1]]
    if (token %in% c("{{", "}}")) {
      return(substr(token, 1, 1))
    }
    known <- length(field) == 3 && field[[2]] %in% names(params)
    if (!known) {
      stop("SQL placeholder ", token, " needs {name:role} with a value ",
           "for name", call. = FALSE)
    }
    quoting <- switch(field[[3]],
      identifier = identifier,
      literal = literal,
      lake_path = lake_file,
      struct = struct,
      checked = checked,
      stop("unknown SQL parameter role '", field[[3]], "'", call. = FALSE)
    )
    quoting(params[[field[[2]]]])
  }

  # Bytes, not characters: the SQL is passed on as it is, in any locale.
  matches <- gregexpr("\\{\\{|\\}\\}|\\{[^{}]*\\}", template,
                      useBytes = TRUE)
  if (any(grepl("[{}]", regmatches(template, matches, invert = TRUE)[[1]]))) {
    stop("single '{' or '}' in the SQL template: write {{ or }}",
         call. = FALSE)
  }
  sql <- template
  regmatches(sql, matches) <- list(vapply(regmatches(sql, matches)[[1]],
                                          render, ""))

  dir.create(lake_path, recursive = TRUE, showWarnings = FALSE)
  database <- file.path(lake_path, "lake.duckdb")
  script <- tempfile(fileext = ".sql")
  errors <- tempfile(fileext = ".txt")
  on.exit(unlink(c(script, errors)), add = TRUE)
  writeLines(sql, script, useBytes = TRUE)
  args <- c("-batch", "-bail", "-no-init", "-csv", "-noheader",
            shQuote(database), "-f", shQuote(script))
  # R puts its own library directories (and the system's) first in
  # LD_LIBRARY_PATH; a duckdb launcher run by another Python (pip's duckdb-cli)
  # could then load the wrong libpython. The shell needs none of them.
  out <- suppressWarnings(system2(
    "duckdb", args,
    stdout = TRUE, stderr = errors, env = "LD_LIBRARY_PATH="
  ))
  status <- attr(out, "status")
  if (!is.null(status)) {
    stop("duckdb (exit status ", status, ") failed on ", database, ":\n",
         paste(readLines(errors, warn = FALSE), collapse = "\n"),
         call. = FALSE)
  }
  invisible(out)
}
