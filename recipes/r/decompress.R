# [recipe]
# # nolint start
# constraint = "Decompressed"
# language = "r"
# entry = "decompress"
# summary = "The downloaded file is decompressed (gzip, bz2 or a single-member zip) into a temporary file."
# libraries = []
#
# [recipe.parameters]
# source = { from = "input", doc = "compressed temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# compression = { from = "source.compression", doc = "one of gzip, bz2 or zip" }
# # nolint end

decompress <- function(source, destination, compression) {
  # Decompress source into destination according to compression.
  if (!compression %in% c("gzip", "bz2", "zip")) {
    stop("unknown compression '", compression, "': expected gzip, bz2 or zip",
         call. = FALSE)
  }
  if (file.exists(destination)) {
    return(invisible(destination))
  }
  chunk_size <- 1048576L

  # gzfile() also reads plain and bzip2 files, so check the magic bytes first.
  expect_magic <- function(magic, kind) {
    found <- readBin(source, "raw", length(magic))
    if (!identical(found, as.raw(magic))) {
      stop(source, " is not a ", kind, " file", call. = FALSE)
    }
  }

  zip_member <- function() {
    names <- utils::unzip(source, list = TRUE)$Name
    names <- names[!grepl("/$", names) & !startsWith(names, "__MACOSX/")]
    if (length(names) != 1) {
      stop("zip archive ", source, " must hold exactly one file, found ",
           length(names), ": ", paste(names, collapse = ", "), call. = FALSE)
    }
    names
  }

  reader <- switch(compression,
    gzip = {
      expect_magic(c(0x1f, 0x8b), "gzip")
      gzfile(source, "rb")
    },
    bz2 = {
      expect_magic(c(0x42, 0x5a, 0x68), "bzip2")
      bzfile(source, "rb")
    },
    zip = unz(source, zip_member(), "rb")
  )
  on.exit(close(reader), add = TRUE)

  dir.create(dirname(destination), recursive = TRUE, showWarnings = FALSE)
  part <- paste0(destination, ".part")
  on.exit(unlink(part), add = TRUE)
  writer <- file(part, "wb")
  tryCatch(
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
    },
    finally = close(writer)
  )
  if (!file.rename(part, destination)) {
    stop("cannot rename ", part, " to ", destination, call. = FALSE)
  }
  invisible(destination)
}
