# [recipe]
# # nolint start
# constraint = "QueryComputed"
# language = "r"
# entry = "compute_query"
# summary = "The asset's SQL query runs on the lake's DuckDB database, each {role} bound to its source table as a quoted name, and its rows are staged as a Parquet file."
# libraries = []
# uses = ["markers", "duckdb_cli"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# sql = { from = "query.sql", doc = "the query; {role} stands for a source table, {{ and }} for braces" }
# sources = { from = "sources.tables", doc = "[role, schema, table] of each source table" }
# inputs = { from = "sources.files", doc = "lake-relative files the source tables were published from" }
# output = { from = "staging.file", doc = "lake-relative path of the Parquet file to write" }
# # nolint end

compute_query <- function(lake_path, sql, sources, inputs, output) {
  # Write the rows of the query sql to lake_path/output as Parquet, with the
  # duckdb command-line program. The step is skipped when the file was made
  # by the same rendered query from the same versions of the source files
  # (their markers join the step's key); when the query fails, the source
  # files are distrusted, so the next run publishes them again.
  #
  # The rendered query (the same in recipes/python/compute_query.py and
  # recipes/r/compute_query.R): the query is read from left to right as the
  # tokens {{, }}, {NAME} (NAME: any characters but braces, possibly none) and a
  # single { or }. {{ becomes {, }} becomes }, and {NAME} becomes
  # "schema"."table" (each name in double quotes, double quotes in it doubled)
  # of the source whose role is exactly NAME; a NAME that is no role, and a
  # single brace, are errors. Then the white space at its start and any mix of
  # white space and semicolons at its end are removed (white space: the
  # characters of Python's str.isspace(), i.e. regular expression \s; a
  # semicolon cut there ends the statement or sits in a final -- comment, and
  # one followed by a comment stays), and it runs as COPY (\n<rendered>\n) TO
  # '<file>' (FORMAT parquet).
  sql <- enc2utf8(as.character(sql))
  # output is "_staging/<dataset>/<asset>.parquet": name the asset in
  # messages.
  asset <- tail(strsplit(sub("\\.[^./]*$", "", output), "/")[[1]], 2)
  asset <- paste(asset, collapse = ".")

  quote <- function(name) {
    paste0("\"", gsub("\"", "\"\"", enc2utf8(name), fixed = TRUE), "\"")
  }
  sources <- lapply(sources, function(source) as.character(unlist(source)))
  roles <- vapply(sources, function(source) enc2utf8(source[[1]]), "")
  tables <- vapply(sources, function(source) {
    paste0(quote(source[[2]]), ".", quote(source[[3]]))
  }, "")
  listed <- paste(sort(roles, method = "radix"), collapse = ", ")
  if (length(roles) == 0) {
    listed <- "none"
  }

  bind <- function(token, at) {
    if (token %in% c("{{", "}}")) {
      return(substr(token, 1, 1))
    }
    if (token %in% c("{", "}")) {
      stop(asset, ": single '", token, "' at character ", at,
           " of the query; fix: write ", token, token, " for a literal ",
           "brace, or {role} for a source table (roles: ", listed, ")",
           call. = FALSE)
    }
    role <- substr(token, 2, nchar(token) - 1)
    if (!role %in% roles) {
      stop(asset, ": the query's placeholder ", token, " names no source ",
           "table (roles: ", listed, "); fix: use one of the roles of ",
           "source_asset_names, or write {{ and }} for literal braces",
           call. = FALSE)
    }
    tables[[max(which(roles == role))]]
  }

  found <- gregexpr("\\{\\{|\\}\\}|\\{[^{}]*\\}|[{}]", sql, perl = TRUE)
  tokens <- regmatches(sql, found)[[1]]
  starts <- as.integer(found[[1]])[seq_along(tokens)]
  rendered <- sql
  regmatches(rendered, found) <- list(
    as.character(unlist(Map(bind, tokens, starts)))
  )
  # Python's re.sub(r"[\s;]+\Z", "", rendered.lstrip()).
  spaces <- c(9:13, 28:32, 133, 160, 5760, 8192:8202, 8232, 8233, 8239,
              8287, 12288)
  codes <- utf8ToInt(rendered)
  codes <- codes[cumsum(!codes %in% spaces) > 0]
  codes <- codes[rev(cumsum(rev(!codes %in% c(spaces, 59)))) > 0]
  rendered <- intToUtf8(codes)

  database <- file.path(lake_path, "lake.duckdb")
  target <- file.path(lake_path, output)
  files <- file.path(lake_path, as.character(unlist(inputs)))
  write <- function(part) {
    path <- file.path(normalizePath(dirname(part)), basename(part))
    done <- duckdb_cli(database, paste0(
      "COPY (\n", rendered, "\n) TO ", sql_literal(path),
      " (FORMAT parquet);"
    ))
    if (done$status != 0) {
      stop(asset, ": the query failed: ", done$errors, "; fix: correct the ",
           "asset's sql (source tables: ", listed, "); the query run ",
           "was:\n", rendered, call. = FALSE)
    }
    NULL
  }
  produce(target, list("compute_query", rendered), files, write)
  invisible(target)
}
