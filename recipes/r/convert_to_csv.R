# [recipe]
# # nolint start
# constraint = "ConvertedToCSV"
# language = "r"
# entry = "convert_to_csv"
# summary = "The source file is rewritten as header-less comma-separated values in schema column order."
# libraries = []
# uses = ["markers", "duckdb_cli", "header_lines"]
# when = { engine = ["lake", "spark", "postgres"], "source.format" = ["tsv", "csv", "parquet"], "source.layout" = ["file"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# source_format = { from = "source.format", doc = "csv, tsv or parquet (jsonl and orc need the Python recipe)" }
# dialect = { from = "source.dialect", doc = "[delimiter, quote] of the source ('' quote: none)" }
# columns = { from = "columns.names", doc = "column names in schema order" }
# header_lines = { from = "source.header_lines", doc = "header lines, read here when the columns are read by name" }
# source_names = { from = "columns.source_names", doc = "what the source calls each column (None: read in schema order)" }
# layout = { from = "source.layout", doc = "file (a directory's files are read by the Python recipe)" }
# # nolint end

convert_to_csv <- function(source, destination, source_format, dialect,
                           columns, header_lines, source_names,
                           layout = "file") {
  # Convert a TSV file to CSV without a header row; a CSV file is copied, or,
  # with another delimiter or quote, rewritten by the duckdb program, which
  # also reads the columns by the names in the header given source_names.
  # Lines are read as bytes (no re-encoding); a UTF-8 byte order mark is
  # dropped. Fields holding a comma, a quote or a line break are quoted.
  if (!identical(layout, "file")) {
    stop("the R recipe reads one file, not a ", layout, ": the Python ",
         "recipe lists and reads a directory", call. = FALSE)
  }
  convert_to_csv_check(source_format)
  width <- length(columns)

  quote_fields <- function(fields) {
    special <- grepl("[\",\r\n]", fields, useBytes = TRUE)
    doubled <- gsub("\"", "\"\"", fields[special], fixed = TRUE,
                    useBytes = TRUE)
    fields[special] <- paste0("\"", doubled, "\"")
    fields
  }

  # Rows of CSV for a chunk of lines; numbers are their line numbers.
  csv_rows <- function(lines, numbers) {
    keep <- nzchar(lines)
    fields <- strsplit(paste0(lines[keep], "\t"), "\t", fixed = TRUE,
                       useBytes = TRUE)
    bad <- which(lengths(fields) != width)
    if (length(bad) > 0) {
      stop(source, ":", numbers[keep][[bad[[1]]]], ": expected ", width,
           " tab-separated fields, found ", lengths(fields)[[bad[[1]]]],
           call. = FALSE)
    }
    cells <- matrix(quote_fields(unlist(fields)), nrow = width)
    do.call(paste, c(split(cells, row(cells)), sep = ","))
  }

  tsv_to_csv <- function(part) {
    reader <- file(source, "rb")
    on.exit(close(reader), add = TRUE)
    if (!identical(readBin(reader, "raw", 3), as.raw(c(0xef, 0xbb, 0xbf)))) {
      seek(reader, 0)
    }
    writer <- file(part, "wb")
    on.exit(close(writer), add = TRUE)
    done <- 0
    repeat {
      lines <- readLines(reader, n = 10000L, warn = FALSE)
      if (length(lines) == 0) {
        break
      }
      rows <- csv_rows(lines, done + seq_along(lines))
      writeLines(rows, writer, useBytes = TRUE)
      done <- done + length(lines)
    }
  }

  # Another dialect than plain CSV's is rewritten, and joins the key; so are
  # the columns read by name.
  other <- !is.null(source_names) || source_format == "csv" &&
    !identical(unlist(dialect), c(",", "\""))

  copy <- function(part) {
    check_plain_text(source, paste("uncompressed", source_format))
    if (other) {
      convert_to_csv_dialect(source, part, dialect, width, header_lines,
                             source_names)
    } else if (source_format == "csv") {
      if (!file.copy(source, part, overwrite = TRUE)) {
        stop("cannot copy ", source, " to ", part, call. = FALSE)
      }
    } else {
      tsv_to_csv(part)
    }
    NULL
  }

  parts <- c(list("convert_to_csv", source_format, columns),
             if (other) list(dialect),
             if (!is.null(source_names)) list(header_lines, source_names))
  make <- if (source_format == "parquet") {
    convert_to_csv_parquet(source, columns, source_names)
  } else {
    copy
  }
  produce(destination, parts, source, make)
  invisible(destination)
}

convert_to_csv_dialect <- function(source, part, dialect, width, header_lines,
                                   source_names) {
  # Rewrite source, values separated by dialect[[1]] and quoted with
  # dialect[[2]], as plain CSV in part: every field as text; NULL stays empty.
  # Given source_names, its header lines are read, and each column taken
  # from the field its last one names.
  picked <- seq_len(width)
  skip <- 0
  if (!is.null(source_names)) {
    reader <- file(source, "rb")
    lines <- readLines(reader, n = header_lines, warn = FALSE)
    close(reader)
    found <- header_positions(lines[[length(lines)]], source_names, dialect,
                              source)
    picked <- found[[1]]
    width <- found[[2]]
    skip <- header_lines
  }
  fields <- sprintf("c%d", seq_len(width))
  scan <- paste0(
    "read_csv(", sql_literal(source), ", header = false, skip = ", skip,
    ", delim = ", sql_literal(dialect[[1]]), ", quote = ",
    sql_literal(dialect[[2]]), ", escape = ", sql_literal(dialect[[2]]),
    ", auto_detect = false, columns = {",
    paste0(sql_literal(fields), ": 'VARCHAR'", collapse = ", "), "})"
  )
  done <- duckdb_cli(":memory:", paste0(
    "COPY (SELECT ", paste(fields[picked], collapse = ", "), " FROM ", scan,
    ") TO ", sql_literal(part),
    " (FORMAT csv, HEADER false);"
  ))
  if (done$status == 0) {
    return(invisible(NULL))
  }
  said <- done$errors
  fields <- regmatches(said, regexec(
    "Expected Number of Columns: ([0-9]+) Found: ([0-9]+)", said
  ))[[1]]
  line <- regmatches(said, regexec("CSV Error on Line: ([0-9]+)", said))[[1]]
  if (length(fields) == 3 && length(line) == 2) {
    stop(source, ":", line[[2]], ": expected ", width, " '", dialect[[1]],
         "'-separated fields, found ", fields[[3]], call. = FALSE)
  }
  stop("could not read ", source, " as '", dialect[[1]], "'-separated ",
       "values quoted with '", dialect[[2]], "'; fix: check the source's ",
       "declared delimiter and quote\n", said, call. = FALSE)
}

convert_to_csv_check <- function(source_format) {
  # Fail on a source format the R recipe cannot read.
  if (!source_format %in% c("csv", "tsv", "jsonl", "parquet")) {
    stop("unknown source format '", source_format,
         "': expected csv, tsv, jsonl or parquet", call. = FALSE)
  }
  if (source_format == "jsonl") {
    stop("the R recipe does not handle JSON lines (base R has no JSON ",
         "parser): use the Python recipe for ConvertedToCSV", call. = FALSE)
  }
}

convert_to_csv_parquet <- function(source, columns, source_names) {
  # What makes the CSV file from the columns of the Parquet file source (read
  # by source_names, if given), with the duckdb program.
  names <- unlist(if (is.null(source_names)) columns else source_names)
  function(part) convert_to_csv_columns(source, part, names)
}

convert_to_csv_columns <- function(source, part, names) {
  # Write part, CSV without a header, from the columns names of the Parquet
  # file source; no facts for the marker.
  head <- readBin(source, "raw", 4)
  if (!identical(head, charToRaw("PAR1"))) {
    stop(source, " is not a parquet file; fix: declare the source's real ",
         "encoding", call. = FALSE)
  }
  scan <- paste0("read_parquet(", sql_literal(source), ")")
  found <- duckdb_cli(":memory:", paste0(
    "SELECT column_name FROM (DESCRIBE SELECT * FROM ", scan, ");"
  ))$rows
  missing <- setdiff(names, found)
  if (length(missing) > 0) {
    stop(source, " has no column '", missing[[1]], "' (it has ",
         paste0("'", found, "'", collapse = ", "), "); fix: check the ",
         "schema's attribute names, or map the file's names with source_names",
         call. = FALSE)
  }
  done <- duckdb_cli(":memory:", paste0(
    "COPY (SELECT ", paste(vapply(names, sql_identifier, ""), collapse = ", "),
    " FROM ", scan, ") TO ", sql_literal(part), " (FORMAT csv, HEADER false);"
  ))
  if (done$status != 0) {
    stop("could not read ", source, " as parquet: ", done$errors,
         call. = FALSE)
  }
  invisible(NULL)
}
