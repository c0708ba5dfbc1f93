# [recipe]
# # nolint start
# constraint = "ConvertedToCSV"
# language = "r"
# entry = "convert_to_csv"
# summary = "The source file is rewritten as header-less comma-separated values in schema column order."
# libraries = []
# uses = ["markers", "duckdb_cli", "header_lines"]
# when = { engine = ["lake", "spark", "postgres"], "source.format" = ["tsv", "csv"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# source_format = { from = "source.format", doc = "csv or tsv (jsonl needs the Python recipe)" }
# dialect = { from = "source.dialect", doc = "[delimiter, quote] of the source ('' quote: none)" }
# columns = { from = "columns.names", doc = "column names in schema order" }
# header_lines = { from = "source.header_lines", doc = "header lines, read here when the columns are read by name" }
# source_names = { from = "columns.source_names", doc = "what the source calls each column (None: read in schema order)" }
# # nolint end

convert_to_csv <- function(source, destination, source_format, dialect,
                           columns, header_lines, source_names) {
  # Convert a TSV file to CSV without a header row; a CSV file is copied, or,
  # with another delimiter or quote, rewritten by the duckdb program, which
  # also reads the columns by the names in the header given source_names.
  # Lines are read as bytes (no re-encoding); a UTF-8 byte order mark is
  # dropped. Fields holding a comma, a quote or a line break are quoted.
  if (!source_format %in% c("csv", "tsv", "jsonl")) {
    stop("unknown source format '", source_format,
         "': expected csv, tsv or jsonl", call. = FALSE)
  }
  if (source_format == "jsonl") {
    stop("the R recipe does not handle JSON lines (base R has no JSON ",
         "parser): use the Python recipe for ConvertedToCSV", call. = FALSE)
  }
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
  produce(destination, parts, source, copy)
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
    return(invisible(part))
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
