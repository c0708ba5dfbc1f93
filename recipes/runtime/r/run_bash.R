# [runtime]
# # nolint start
# name = "run_bash"
# language = "r"
# runs = "bash"
# summary = "Runs a Bash recipe with its parameters as positional arguments, never interpolated."
# libraries = []
# # nolint end

run_bash <- function(script, name, ...) {
  # Run script with bash; arguments become "$1", "$2", ... (NULL becomes "").
  args <- vapply(
    list(...),
    function(arg) if (is.null(arg)) "" else as.character(arg),
    character(1)
  )
  status <- system2("bash", shQuote(c("-c", script, name, args)))
  if (!identical(status, 0L)) {
    stop("bash recipe ", name, " failed with status ", status, call. = FALSE)
  }
  invisible(NULL)
}
