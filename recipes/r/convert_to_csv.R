# [recipe]
# # nolint start
# constraint = "ConvertedToCSV"
# language = "r"
# entry = "convert_to_csv"
# summary = "The source file is rewritten as header-less comma-separated values in schema column order."
# libraries = []
# uses = ["markers"]
# when = { engine = ["lake", "spark", "postgres"], "source.format" = ["tsv", "csv"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# source_format = { from = "source.format", doc = "csv or tsv (jsonl needs the Python recipe)" }
# columns = { from = "columns.names", doc = "column names in schema order" }
# # nolint end

convert_to_csv <- function(source, destination, source_format, columns) {
  # Convert a TSV file to CSV without a header row; a CSV file is copied.
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

  copy <- function(part) {
    check_plain_text(source, paste("uncompressed", source_format))
    if (source_format == "csv") {
      if (!file.copy(source, part, overwrite = TRUE)) {
        stop("cannot copy ", source, " to ", part, call. = FALSE)
      }
    } else {
      tsv_to_csv(part)
    }
    NULL
  }

  parts <- list("convert_to_csv", source_format, columns)
  produce(destination, parts, source, copy)
  invisible(destination)
}
