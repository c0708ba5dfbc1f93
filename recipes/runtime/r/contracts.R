# [helper]
# # nolint start
# name = "contracts"
# language = "r"
# summary = "Before a table is published, every contract declared on its columns is checked in one pass over its new rows with the duckdb program; a violation fails the step, naming the table, the column, the contract, the number of rows and up to five examples, as the Python helper does."
# libraries = []
# uses = ["duckdb_cli"]
# # nolint end

contract_literal <- function(value) {
  # A DuckDB literal of a contract's value.
  if (is.logical(value)) {
    return(if (isTRUE(value)) "TRUE" else "FALSE")
  }
  if (is.numeric(value)) {
    return(as.character(value))
  }
  sql_literal(as.character(value))
}

contract_breaks <- function(column, contract, value) {
  # The condition true for a row that breaks the contract (not for unique).
  quoted <- sql_identifier(list(column))
  switch(contract,
    min = paste0(quoted, " < ", contract_literal(value)),
    max = paste0(quoted, " > ", contract_literal(value)),
    accepted_values = paste0(
      quoted, " NOT IN (",
      paste(vapply(value, contract_literal, ""), collapse = ", "), ")"
    ),
    regex = paste0(
      "NOT regexp_full_match(", quoted, ", ", contract_literal(value), ")"
    ),
    stop("unknown contract '", contract, "'", call. = FALSE)
  )
}

contract_query <- function(sql) {
  # The rows of one query on an in-memory database, as text.
  done <- duckdb_cli(":memory:", paste0(sql, ";"))
  if (done$status != 0) {
    stop(done$errors, call. = FALSE)
  }
  if (length(done$rows) == 0) {
    return(list())
  }
  read.csv(text = done$rows, header = FALSE, colClasses = "character",
           na.strings = character(0))
}

check_contracts <- function(relation, label, contracts) {
  # Check every contract on relation (a DuckDB table expression) in one pass;
  # on a violation, fail naming each contract broken, with up to five
  # examples (a second query per broken contract).
  if (length(contracts) == 0) {
    return(invisible(NULL))
  }
  counts <- vapply(contracts, function(spec) {
    quoted <- sql_identifier(list(spec[[1]]))
    if (identical(spec[[2]], "unique")) {
      return(paste0("count(", quoted, ") - count(DISTINCT ", quoted, ")"))
    }
    condition <- contract_breaks(spec[[1]], spec[[2]], spec[[3]])
    paste0("count(*) FILTER (WHERE ", condition, ")")
  }, "")
  found <- contract_query(paste0(
    "SELECT ", paste(counts, collapse = ", "), " FROM ", relation
  ))
  found <- as.numeric(unlist(found[1, ]))
  broken <- character(0)
  for (index in seq_along(contracts)) {
    count <- found[[index]]
    if (count == 0) {
      next
    }
    spec <- contracts[[index]]
    quoted <- sql_identifier(list(spec[[1]]))
    query <- if (identical(spec[[2]], "unique")) {
      paste0("SELECT ", quoted, " FROM ", relation, " WHERE ", quoted,
             " IS NOT NULL GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 5")
    } else {
      paste0("SELECT DISTINCT ", quoted, " FROM ", relation, " WHERE ",
             contract_breaks(spec[[1]], spec[[2]], spec[[3]]),
             " ORDER BY 1 LIMIT 5")
    }
    values <- contract_query(query)
    values <- if (length(values) == 0) character(0) else values[[1]]
    examples <- paste0("'", substr(values, 1, 80), "'", collapse = ", ")
    rows <- if (count == 1) "1 row breaks" else paste0(count, " rows break")
    broken <- c(broken, paste0(label, ": column ", quoted, ": ", rows, " ",
                               spec[[4]], " (examples: ", examples, ")"))
  }
  if (length(broken) > 0) {
    stop(paste(broken, collapse = "; "), "; fix: correct the source, or ",
         "the contract declared on the attribute; nothing was published, ",
         "the table keeps its previous version", call. = FALSE)
  }
  invisible(NULL)
}
