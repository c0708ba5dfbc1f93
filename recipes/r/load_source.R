# [recipe]
# # nolint start
# constraint = "TemporaryTableDropped"
# covers = ["Decompressed", "HeaderRemoved", "ConvertedToCSV", "StoredInLake", "TemporaryTableCreated", "ConvertedToTargetEncoding", "TablePublished"]
# cost = 1
# step = "source_loaded"
# language = "r"
# entry = "load_source"
# summary = "The duckdb program reads the downloaded file in one streaming pass (gzip, header lines and tabs included), converts each value exactly to its declared type, writes the Parquet file and publishes the table."
# libraries = []
# uses = ["markers", "duckdb_cli", "header_lines", "checked_columns", "progress", "lake_publish", "contracts"]
# when = { engine = ["lake"], "source.codec" = ["none", "gzip"], "source.format" = ["csv", "tsv"], "target.format" = ["parquet"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# source = { from = "input", doc = "the downloaded file" }
# compression = { from = "source.codec", doc = "none or gzip" }
# source_format = { from = "source.format", doc = "csv or tsv" }
# dialect = { from = "source.dialect", doc = "[delimiter, quote] of the source ('' quote: none)" }
# header_lines = { from = "source.header_lines", doc = "leading lines to skip" }
# columns = { from = "columns.checked", doc = "column names, DuckDB types and nullability, in file order" }
# destination = { from = "target.file", doc = "lake-relative path of the file to write" }
# target_format = { from = "target.format", doc = "parquet (the duckdb program writes no ORC)" }
# table = { from = "target.table", doc = "schema and name of the table to publish" }
# staging = { from = "staging.table", doc = "the staging view the separate steps would use, dropped if left" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }
# source_names = { from = "columns.source_names", doc = "what the source's header calls each column (None: read in schema order)" }
# # nolint end

load_source <- function(lake_path, source, compression, source_format,
                        dialect, header_lines, columns, destination,
                        target_format, table, staging, contracts,
                        source_names) {
  # Make lake_path/destination from the downloaded source in one pass, and
  # publish it. The same rows, types and failures as the separate steps
  # (decompress, drop the header, convert to CSV, stage, convert, publish),
  # without their intermediate files: the duckdb program reads the file where
  # it is, on every core. A rerun with the same download and declaration
  # skips the pass.
  known <- compression %in% c("none", "gzip") &&
    source_format %in% c("csv", "tsv")
  if (!known) {
    stop("load_source reads csv or tsv, uncompressed or gzip; got '",
         source_format, "' with '", compression, "'", call. = FALSE)
  }
  if (!identical(target_format, "parquet")) {
    stop("unknown target format '", target_format, "': the R recipe ",
         "writes parquet (use the Python recipe for orc)", call. = FALSE)
  }
  load <- list(
    source = source, compression = compression, format = source_format,
    skip = as.integer(header_lines), columns = columns,
    label = paste(as.character(unlist(table)), collapse = "."),
    names = vapply(columns, function(spec) as.character(spec[[1]]), ""),
    tsv = identical(source_format, "tsv"), contracts = contracts,
    delimiter = dialect[[1]], quote = dialect[[2]],
    source_names = unlist(source_names)
  )
  # The source's fields as the duckdb program reads them: the columns, in
  # schema order unless the header names them (load_source_header()).
  load$read_as <- load$names
  parts <- list("load_source", compression, source_format, load$skip,
                columns, target_format)
  if (length(contracts) > 0) {
    # A contract joins the key: a new one checks rows already loaded.
    parts <- c(parts, list(contracts))
  }
  if (!load$tsv && !identical(unlist(dialect), c(",", "\""))) {
    # So does another dialect than plain CSV's.
    parts <- c(parts, list(dialect))
  }
  parts <- c(parts, if (!is.null(source_names)) list(source_names))
  produce(file.path(lake_path, destination), parts, source, function(part) {
    load_source_write(load, part)
  })
  publish_parquet_view(lake_path, destination, table, staging)
  invisible(file.path(lake_path, destination))
}

load_source_query <- function(load, path, codec, with_lines) {
  # The query converting the file at path; with source line numbers for
  # errors (a window over the whole file: only to explain a failure).
  quote <- load$quote
  scan <- paste0(
    "read_csv(", sql_literal(path), ", header = false, skip = ", load$skip,
    ", delim = ", sql_literal(load$delimiter),
    ", quote = ", sql_literal(quote), ", escape = ", sql_literal(quote),
    ", auto_detect = false, compression = ", sql_literal(codec),
    ", columns = {",
    paste0(sql_literal(load$read_as), ": 'VARCHAR'", collapse = ", "), "})"
  )
  line <- c("': '", "', line ' || __aorist_line || ': '")[[1 + with_lines]]
  selects <- vapply(load$columns, function(spec) {
    quoted <- paste0("\"", gsub("\"", "\"\"", spec[[1]], fixed = TRUE),
                     "\"")
    checked_column(spec, paste0(sql_literal(load$label),
                                " || ': column ' || ", sql_literal(quoted),
                                " || ", line))
  }, "")
  if (with_lines) {
    scan <- paste0("(SELECT ", load$skip, " + row_number() OVER () AS ",
                   "__aorist_line, * FROM ", scan, ")")
  }
  paste0("SELECT ", paste(selects, collapse = ",\n    "), " FROM ", scan)
}

load_source_checked <- function(text) {
  # The line of a checked conversion's error, or NULL.
  lines <- strsplit(text, "\n", fixed = TRUE)[[1]]
  found <- grep(": column ", lines, fixed = TRUE, value = TRUE)
  if (length(found) > 0) sub("^.*Invalid Input Error: ", "", found[[1]])
}

load_source_explain <- function(load, said, path, codec) {
  # The engine's error, as the Python recipe words it.
  if (!is.null(load_source_checked(said))) {
    # Every column is converted (a count would skip them), nothing kept.
    located <- duckdb_cli(":memory:", paste0(
      "COPY (", load_source_query(load, path, codec, TRUE), ") TO ",
      sql_literal("/dev/null"), " (FORMAT csv);"
    ))
    return(c(load_source_checked(located$errors),
             load_source_checked(said))[[1]])
  }
  if (grepl("invalid state", said, fixed = TRUE) && !load$tsv) {
    return(paste0(
      "could not parse ", load$source, " as CSV: a quote that never closes, ",
      "or lines ending in both CRLF and LF (DuckDB reads one kind per ",
      "file); fix: check the source, or read it without fusing ",
      "(fuse=False)\n", said
    ))
  }
  fields <- regmatches(said, regexec(
    "Expected Number of Columns: ([0-9]+) Found: ([0-9]+)", said
  ))[[1]]
  line <- regmatches(said, regexec("CSV Error on Line: ([0-9]+)", said))[[1]]
  if (length(fields) == 3 && length(line) == 2) {
    kind <- c("\t" = "tab", "," = "comma")[load$delimiter]
    kind <- if (is.na(kind)) paste0("'", load$delimiter, "'") else kind
    return(paste0(load$source, ":", line[[2]], ": expected ", fields[[2]],
                  " ", kind, "-separated fields, found ", fields[[3]],
                  "; fix: check ",
                  "the source's declared encoding and its schema"))
  }
  what <- c(load$compression, "uncompressed")[[
    1 + identical(load$compression, "none")
  ]]
  paste0("could not read ", load$source, " as ", what, " ", load$format,
         " with ", load$skip, " header line(s) and ", length(load$names),
         " columns (", paste(load$names, collapse = ", "), "); fix: check ",
         "the source's declared encoding (CSV or TSV, header lines, ",
         "compression) and its schema\n", said)
}

load_source_normalize <- function(from, to) {
  # from (plain or gzip) to the plain file to, a CR before each LF dropped:
  # DuckDB reads one line ending per file, and a TSV has no quoting, so this
  # is what the separate steps read.
  reader <- gzfile(from, "rb")
  on.exit(close(reader), add = TRUE)
  writer <- file(to, "wb")
  on.exit(close(writer), add = TRUE)
  carry <- raw(0)
  repeat {
    block <- readBin(reader, "raw", 1048576L)
    chunk <- c(carry, block)
    if (length(block) == 0) {
      writeBin(chunk, writer)
      break
    }
    # A CR ending the chunk may come before the next chunk's LF.
    carry <- utils::tail(chunk, 1)
    carry <- carry[carry == as.raw(13)]
    chunk <- chunk[seq_len(length(chunk) - length(carry))]
    lf <- which(chunk == as.raw(10))
    lf <- lf[lf > 1]
    cr <- lf[chunk[lf - 1] == as.raw(13)] - 1
    writeBin(if (length(cr) > 0) chunk[-cr] else chunk, writer)
  }
}

load_source_convert <- function(load, part, path, codec) {
  # Write the Parquet file part from the file at path with the duckdb
  # program; what it said. A bound on DuckDB's buffers keeps memory flat
  # however large the source.
  absolute <- file.path(normalizePath(dirname(part)), basename(part))
  with_progress(paste("load", load$label), part, NULL, function() {
    duckdb_cli(":memory:", paste0(
      "SET memory_limit = '256MB';\n",
      "COPY (", load_source_query(load, path, codec, FALSE), ") TO ",
      sql_literal(absolute), " (FORMAT parquet);"
    ))
  })
}

load_source_header <- function(load) {
  # load, after its header lines: reported when they read as data, or, when
  # the schema reads its columns by name, the names of the fields to read.
  if (load$skip == 0) {
    return(load)
  }
  reader <- gzfile(load$source, "rb")
  on.exit(close(reader), add = TRUE)
  dropped <- tryCatch(
    readLines(reader, n = load$skip, warn = FALSE),
    error = function(error) {
      stop(load$source, " is not a whole ", load$compression, " file (",
           conditionMessage(error), "); fix: check the source, or declare ",
           "its real compression", call. = FALSE)
    }
  )
  if (!is.null(load$source_names)) {
    load$read_as <- load_source_named(load, dropped[[length(dropped)]])
    return(load)
  }
  pairs <- lapply(load$columns, function(spec) list(spec[[1]], spec[[2]]))
  warn_if_data(dropped, load$source, load$skip,
               list(load$delimiter, load$quote), pairs)
  load
}

load_source_named <- function(load, line) {
  # The fields of the header line, each a column's name where the source's
  # name for it is there; the others renamed not to meet any.
  found <- header_positions(line, load$source_names,
                            list(load$delimiter, load$quote), load$source)
  read_as <- paste0("__aorist_field_", seq_len(found[[2]]) - 1)
  read_as[found[[1]]] <- load$names
  read_as
}

load_source_rows <- function(part) {
  # The rows of the Parquet file part.
  rows <- duckdb_cli(":memory:", paste0(
    "SELECT count(*) FROM read_parquet(", sql_literal(part), ");"
  ))$rows
  as.numeric(rows[[1]])
}

load_source_has_data <- function(load, path) {
  # Whether the file at path has a non-blank line after its header lines.
  reader <- gzfile(path, "rb")
  on.exit(close(reader), add = TRUE)
  left <- load$skip
  repeat {
    lines <- readLines(reader, n = 10000L, warn = FALSE)
    if (length(lines) == 0) {
      return(FALSE)
    }
    kept <- utils::tail(lines, max(0, length(lines) - left))
    left <- max(0, left - length(lines))
    if (any(nzchar(trimws(kept)))) {
      return(TRUE)
    }
  }
}

load_source_write <- function(load, part) {
  # The Parquet file part, from the source in one pass.
  start <- Sys.time()
  if (identical(load$compression, "none")) {
    check_plain_text(load$source, paste("uncompressed", load$format))
  }
  load <- load_source_header(load)
  path <- load$source
  codec <- load$compression
  done <- load_source_convert(load, part, path, codec)
  # DuckDB fails on some files whose lines end in both CRLF and LF, and reads
  # no rows at all from others: never publish that as an empty table.
  empty <- function() {
    done$status == 0 && load_source_rows(part) == 0 &&
      load_source_has_data(load, path)
  }
  mixed <- grepl("invalid state", done$errors, fixed = TRUE) || empty()
  if (load$tsv && mixed) {
    message("load ", load$label, ": lines end in both CRLF and LF; ",
            "rewriting them with LF first")
    path <- unique_part(paste0(load$source, ".lines"))
    codec <- "none"
    on.exit(unlink(path), add = TRUE)
    load_source_normalize(load$source, path)
    done <- load_source_convert(load, part, path, codec)
  }
  if (done$status != 0) {
    stop(load_source_explain(load, done$errors, path, codec), call. = FALSE)
  }
  if (empty()) {
    stop("DuckDB read no rows from ", load$source, ", which has data after ",
         "its ", load$skip, " header line(s): do its lines end in both CRLF ",
         "and LF? fix: check the source, or read it without fusing ",
         "(fuse=False)", call. = FALSE)
  }
  what <- format(load_source_rows(part), big.mark = ",", scientific = FALSE)
  progress_finish(paste("load", load$label), paste(what, "rows"), start)
  relation <- paste0("read_parquet(", sql_literal(normalizePath(part)), ")")
  get("check_contracts")(relation, load$label, load$contracts)
  NULL
}
