# [recipe]
# # nolint start
# constraint = "Decompressed"
# language = "r"
# entry = "decompress"
# summary = "The downloaded file is decompressed (gzip, bz2 or a single-member zip) into a temporary file."
# libraries = []
# uses = ["markers"]
# when = { engine = ["lake", "spark", "postgres"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "compressed temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# compression = { from = "source.compression", doc = "one of gzip, bz2 or zip" }
# # nolint end

decompress <- function(source, destination, compression) {
  # Decompress source into destination according to compression. A file
  # that is not a whole one of its compression fails before anything is
  # written (check_compressed), and distrusts the download it came from.
  if (!compression %in% c("gzip", "bz2", "zip")) {
    stop("unknown compression '", compression, "': expected gzip, bz2 or zip",
         call. = FALSE)
  }
  chunk_size <- 1048576L

  zip_member <- function() {
    names <- utils::unzip(source, list = TRUE)$Name
    names <- names[!grepl("/$", names) & !startsWith(names, "__MACOSX/")]
    if (length(names) != 1) {
      stop("zip archive ", source, " must hold exactly one file, found ",
           length(names), ": ", paste(names, collapse = ", "), call. = FALSE)
    }
    names
  }

  copy <- function(part) {
    check_compressed(source, compression)
    reader <- switch(compression,
      gzip = gzfile(source, "rb"),
      bz2 = bzfile(source, "rb"),
      zip = unz(source, zip_member(), "rb")
    )
    on.exit(close(reader), add = TRUE)
    writer <- file(part, "wb")
    on.exit(close(writer), add = TRUE)
    withCallingHandlers(
      repeat {
        chunk <- readBin(reader, "raw", chunk_size)
        if (length(chunk) == 0) {
          break
        }
        writeBin(chunk, writer)
      },
      warning = function(w) {
        stop("cannot decompress ", source, ": ", conditionMessage(w),
             call. = FALSE)
      }
    )
    NULL
  }

  produce(destination, list("decompress", compression), source, copy)
  invisible(destination)
}
