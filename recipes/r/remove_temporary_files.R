# [recipe]
# # nolint start
# constraint = "TemporaryFilesRemoved"
# language = "r"
# entry = "remove_temporary_files"
# summary = "The temporary copies of the table's data (decompressed, header-less, CSV, staged) and their markers are removed; the download stays, as the cache a rerun rebuilds them from."
# libraries = []
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory" }
# files = { from = "temporaries", doc = "temporary files the table's earlier steps wrote, the download excepted" }
# staged = { from = "staging.file", doc = "lake-relative path of the staged copy" }
# # nolint end

remove_temporary_files <- function(lake_path, files, staged) {
  # Remove each temporary file and the staged copy, each with its marker first
  # (a file that stays must not stay trusted). A missing file is fine: a rerun
  # removes what is left. When AORIST_KEEP_TEMPORARY_FILES is set (and not
  # "0"), nothing is removed.
  paths <- c(as.character(unlist(files)), file.path(lake_path, staged))
  keep <- Sys.getenv("AORIST_KEEP_TEMPORARY_FILES", "")
  if (!keep %in% c("", "0")) {
    writeLines(paste0("AORIST_KEEP_TEMPORARY_FILES is set: keeping ",
                      paste(paths, collapse = ", ")), useBytes = TRUE)
    return(invisible(character(0)))
  }
  removed <- character(0)
  for (path in paths) {
    marker <- paste0(path, ".done")
    if (file.exists(marker) && !file.remove(marker)) {
      stop("cannot remove ", marker, call. = FALSE)
    }
    if (file.exists(path)) {
      if (!file.remove(path)) {
        stop("cannot remove ", path, call. = FALSE)
      }
      removed <- c(removed, path)
    }
  }
  writeLines(paste0("removed ", if (length(removed) > 0) {
    paste(removed, collapse = ", ")
  } else {
    "nothing (already removed)"
  }), useBytes = TRUE)
  invisible(removed)
}
