# [recipe]
# # nolint start
# constraint = "HeaderRemoved"
# language = "r"
# entry = "remove_header"
# summary = "The leading header lines of the source file are dropped."
# libraries = []
# uses = ["markers", "header_lines"]
# when = { engine = ["lake", "spark", "postgres"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# num_lines = { from = "source.header_lines", doc = "number of leading lines to drop" }
# source_format = { from = "source.format", doc = "csv or tsv" }
# dialect = { from = "source.dialect", doc = "[delimiter, quote]: how a dropped line splits into fields" }
# columns = { from = "columns.duckdb", doc = "column names and DuckDB types, to spot data in the header" }
# # nolint end

remove_header <- function(source, destination, num_lines, source_format,
                          dialect, columns) {
  # Copy source to destination without its first num_lines lines. The file is
  # streamed in chunks of bytes, so the lines kept are copied byte for byte.
  # A dropped line that reads as a row of the schema is reported
  # (warn_if_data()).
  valid <- is.numeric(num_lines) && length(num_lines) == 1 &&
    isTRUE(num_lines >= 0 && num_lines == round(num_lines))
  if (!valid) {
    stop("num_lines must be a non-negative integer, got ",
         deparse(num_lines), call. = FALSE)
  }
  # Copies source without its first num_lines lines; returns up to 1 MiB of
  # the lines it dropped, as text lines.
  copy_body <- function(part) {
    reader <- file(source, "rb")
    on.exit(close(reader), add = TRUE)
    writer <- file(part, "wb")
    on.exit(close(writer), add = TRUE)
    left <- num_lines
    dropped <- raw(0)
    repeat {
      chunk <- readBin(reader, "raw", 1048576L)
      if (length(chunk) == 0) {
        break
      }
      ends <- which(chunk == as.raw(10))
      # Where the lines still to drop end in this chunk (0: none left).
      cut <- c(0, ends, length(chunk))[min(left, length(ends) + 1) + 1]
      dropped <- c(dropped, utils::head(chunk[seq_len(cut)],
                                        1048576L - length(dropped)))
      left <- max(0, left - length(ends))
      writeBin(chunk[cut + seq_len(length(chunk) - cut)], writer)
    }
    text <- rawToChar(dropped[dropped != as.raw(0)])
    strsplit(text, "\n", fixed = TRUE, useBytes = TRUE)[[1]]
  }

  copy <- function(part) {
    check_plain_text(source, paste("uncompressed", source_format))
    dropped <- copy_body(part)
    warn_if_data(dropped, source, num_lines, dialect, columns)
    NULL
  }

  produce(destination, list("remove_header", num_lines), source, copy)
  invisible(destination)
}
