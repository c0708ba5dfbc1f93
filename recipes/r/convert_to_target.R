# [recipe]
# # nolint start
# constraint = "ConvertedToTargetEncoding"
# language = "r"
# entry = "convert_to_target"
# summary = "The staged view is written to the lake as a Parquet file; a value that breaks the schema or a contract fails the step and publishes nothing."
# libraries = []
# uses = ["markers", "duckdb_cli", "contracts"]
# when = { engine = ["lake"], "target.format" = ["parquet"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# table = { from = "staging.table", doc = "name parts of the staging view to read" }
# destination = { from = "target.file", doc = "lake-relative path of the file to write" }
# target_format = { from = "target.format", doc = "parquet (the duckdb program writes no ORC)" }
# staged = { from = "staging.file", doc = "lake-relative path of the staged file the view reads" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }
# # nolint end

convert_to_target <- function(lake_path, table, destination, target_format,
                              staged, contracts) {
  # Write the rows of the staging view to lake_path/destination with the
  # duckdb command-line program. The view converts every value exactly to its
  # declared type; the first that does not convert fails this step: the
  # staging view is dropped, the staged file and the files it was made from
  # are distrusted, so a fixed source is read again.
  if (!identical(target_format, "parquet")) {
    stop("unknown target format '", target_format, "': the R recipe ",
         "writes parquet (use the Python recipe for orc)", call. = FALSE)
  }
  database <- file.path(lake_path, "lake.duckdb")
  target <- file.path(lake_path, destination)
  source <- file.path(lake_path, staged)
  name <- sql_identifier(table)
  query <- paste0("SELECT * FROM ", name)

  # The engine's error, headed by what the step was reading and how to fix it.
  explain <- function(said) {
    lines <- strsplit(said, "\n", fixed = TRUE)[[1]]
    checked <- grep(": column ", lines, fixed = TRUE, value = TRUE)
    if (length(checked) > 0) {
      return(sub("^Invalid Input Error: ", "", checked[[1]]))
    }
    columns <- duckdb_cli(database, paste0(
      "SELECT column_name FROM (DESCRIBE ", query, ");"
    ))$rows
    first <- readBin(source, "raw", 200L)
    first <- first[seq_len(match(as.raw(10), first, nomatch = length(first)))]
    text <- rawToChar(first[first != as.raw(0)])
    fields <- length(scan(text = text, what = "", sep = ",", quote = "\"",
                          quiet = TRUE, na.strings = character(0)))
    paste0("could not read the staged file ", source, " as header-less CSV ",
           "with ", length(columns), " columns (",
           paste(columns, collapse = ", "), "): its first line is ",
           deparse(text), ", ", fields, " comma-separated field(s); fix: ",
           "check the source's declared encoding (CSV or TSV, header lines, ",
           "compression) and its schema\n", said)
  }

  write <- function(part) {
    path <- file.path(normalizePath(dirname(part)), basename(part))
    done <- duckdb_cli(database, paste0(
      "COPY (", query, ") TO ", sql_literal(path), " (FORMAT parquet);"
    ))
    if (done$status != 0) {
      why <- explain(done$errors)
      # A failed step leaves no staging view behind.
      duckdb_cli(database, paste0("DROP VIEW IF EXISTS ", name, ";"))
      stop(why, call. = FALSE)
    }
    # A row that breaks a contract fails the step before the file replaces the
    # old one: the table keeps its previous version.
    relation <- paste0("read_parquet(", sql_literal(path), ")")
    checked <- tryCatch({
      get("check_contracts")(relation, table[[length(table)]], contracts)
      NULL
    }, error = function(error) conditionMessage(error))
    if (!is.null(checked)) {
      duckdb_cli(database, paste0("DROP VIEW IF EXISTS ", name, ";"))
      stop(checked, call. = FALSE)
    }
    NULL
  }

  parts <- list("convert_to_target", target_format, query)
  if (length(contracts) > 0) {
    # A contract joins the key: a new one checks rows already converted.
    parts <- c(parts, list(contracts))
  }
  produce(target, parts, source, write)
  invisible(target)
}
