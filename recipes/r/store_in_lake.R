# [recipe]
# # nolint start
# constraint = "StoredInLake"
# language = "r"
# entry = "store_in_lake"
# summary = "The prepared CSV file is copied into the lake's staging area."
# libraries = []
# uses = ["markers"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# lake_path = { from = "settings.lake_path", doc = "lake directory" }
# destination = { from = "staging.file", doc = "lake-relative path of the staged file" }
# # nolint end

store_in_lake <- function(source, lake_path, destination) {
  # Copy source to lake_path/destination atomically.
  target <- file.path(lake_path, destination)
  produce(target, list("store_in_lake"), source, function(part) {
    check_plain_text(source, "uncompressed CSV")
    if (!file.copy(source, part, overwrite = TRUE)) {
      stop("cannot copy ", source, " to ", part, call. = FALSE)
    }
    NULL
  })
  invisible(target)
}
