# [helper]
# # nolint start
# name = "checked_columns"
# language = "r"
# summary = "The DuckDB select list that converts staged text columns exactly to their declared types, or fails naming where and which value."
# libraries = []
# # nolint end

checked_column <- function(spec, where) {
  # The select expression converting the text column spec[[1]] exactly to
  # the type spec[[2]] (nullable when spec[[3]] is TRUE). where is a SQL
  # expression heading the error (table, column, line): the first value that
  # does not convert, or an empty value in a non-nullable column, fails the
  # query through DuckDB's error(). The SQL is the Python helper's, byte for
  # byte.
  literal <- function(text) {
    paste0("'", gsub("'", "''", as.character(text), fixed = TRUE), "'")
  }
  name <- as.character(spec[[1]])
  kind <- as.character(spec[[2]])
  # A type name is the one part spliced in as it is: only a type name.
  stopifnot("a checked column's type must be a DuckDB type name" =
              grepl("^[A-Z][A-Z0-9_ ]*(\\([0-9, ]+\\))?$", kind))
  column <- paste0("\"", gsub("\"", "\"\"", name, fixed = TRUE), "\"")
  quote <- literal("'")
  value <- paste0(quote, " || left(", column, ", 80) || ", quote)
  # One cast per value; a value that does not convert fails the query.
  # DuckDB's cast rounds '3.5' to 4 and reads '1e3': a BIGINT is digits.
  whats <- c(BIGINT = "a whole number", other = paste0("a ", tolower(kind)))
  what <- whats[[c(intersect(kind, names(whats)), "other")[[1]]]]
  wrong <- paste0("error(", where, " || ", value, " || ",
                  literal(paste0(" is not ", what, " (", kind, ")")), ")")
  cast <- paste0("coalesce(TRY_CAST(", column, " AS ", kind, "), ", wrong,
                 ")")
  rules <- list(
    BIGINT = paste0("CASE WHEN regexp_full_match(", column,
                    ", '\\s*[+-]?[0-9]+\\s*') THEN ", cast,
                    " ELSE ", wrong, " END"),
    VARCHAR = column,
    other = cast
  )
  converted <- rules[[c(intersect(kind, names(rules)), "other")[[1]]]]
  empty <- c(
    paste0("error(", where, " || 'empty value in a non-nullable column')"),
    "NULL"
  )[[1 + isTRUE(as.logical(spec[[3]]))]]
  paste0("CASE WHEN ", column, " IS NULL THEN ", empty,
         " ELSE ", converted, " END AS ", column)
}
