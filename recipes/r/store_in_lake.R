# [recipe]
# # nolint start
# constraint = "StoredInLake"
# language = "r"
# entry = "store_in_lake"
# summary = "The prepared CSV file is copied into the lake's staging area."
# libraries = []
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# lake_path = { from = "settings.lake_path", doc = "lake directory" }
# destination = { from = "staging.file", doc = "lake-relative path of the staged file" }
# # nolint end

store_in_lake <- function(source, lake_path, destination) {
  # Copy source to lake_path/destination atomically.
  target <- file.path(lake_path, destination)
  if (file.exists(target)) {
    return(invisible(target))
  }
  dir.create(dirname(target), recursive = TRUE, showWarnings = FALSE)
  part <- paste0(target, ".part")
  on.exit(unlink(part), add = TRUE)
  if (!file.copy(source, part, overwrite = TRUE)) {
    stop("cannot copy ", source, " to ", part, call. = FALSE)
  }
  if (!file.rename(part, target)) {
    stop("cannot rename ", part, " to ", target, call. = FALSE)
  }
  invisible(target)
}
