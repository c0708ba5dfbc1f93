# [recipe]
# # nolint start
# constraint = "HeaderRemoved"
# language = "r"
# entry = "remove_header"
# summary = "The leading header lines of the source file are dropped."
# libraries = []
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# num_lines = { from = "source.header_lines", doc = "number of leading lines to drop" }
# # nolint end

remove_header <- function(source, destination, num_lines) {
  # Copy source to destination without its first num_lines lines. The file is
  # streamed in chunks of bytes, so the lines kept are copied byte for byte.
  valid <- is.numeric(num_lines) && length(num_lines) == 1 &&
    isTRUE(num_lines >= 0 && num_lines == round(num_lines))
  if (!valid) {
    stop("num_lines must be a non-negative integer, got ",
         deparse(num_lines), call. = FALSE)
  }
  if (file.exists(destination)) {
    return(invisible(destination))
  }
  dir.create(dirname(destination), recursive = TRUE, showWarnings = FALSE)
  part <- paste0(destination, ".part")
  on.exit(unlink(part), add = TRUE)
  reader <- file(source, "rb")
  on.exit(close(reader), add = TRUE)
  writer <- file(part, "wb")
  to_skip <- num_lines
  tryCatch(
    repeat {
      chunk <- readBin(reader, "raw", 1048576L)
      if (length(chunk) == 0) {
        break
      }
      if (to_skip > 0) {
        ends <- which(chunk == as.raw(10))
        cut <- if (to_skip > length(ends)) length(chunk) else ends[[to_skip]]
        to_skip <- max(0, to_skip - length(ends))
        chunk <- chunk[-seq_len(cut)]
      }
      writeBin(chunk, writer)
    },
    finally = close(writer)
  )
  if (!file.rename(part, destination)) {
    stop("cannot rename ", part, " to ", destination, call. = FALSE)
  }
  invisible(destination)
}
