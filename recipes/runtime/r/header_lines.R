# [helper]
# # nolint start
# name = "header_lines"
# language = "r"
# summary = "A header line that reads as a row of the schema is reported: the file may have no header at all."
# libraries = []
# # nolint end

warn_if_data <- function(dropped, source, num_lines, dialect, columns) {
  # Report the dropped header lines (text lines) of source that, split by
  # dialect (list(delimiter, quote)), read as rows of columns (list(name,
  # type) pairs): every typed field converts.
  patterns <- c(
    BIGINT = "^\\s*[+-]?[0-9]+\\s*$",
    DOUBLE = "^\\s*[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?\\s*$",
    BOOLEAN = "^\\s*(?i:true|false|t|f|yes|no|y|n|1|0)\\s*$"
  )
  types <- vapply(columns, function(column) as.character(column[[2]]), "")

  looks_like_data <- function(line) {
    text <- sub("\r$", "", line, useBytes = TRUE)
    fields <- header_fields(text, dialect)
    typed <- types %in% names(patterns)
    length(fields) == length(types) && any(typed) &&
      all(mapply(grepl, patterns[types[typed]], fields[typed],
                 MoreArgs = list(perl = TRUE, useBytes = TRUE)))
  }

  data <- Filter(function(line) {
    tryCatch(looks_like_data(line), error = function(error) FALSE,
             warning = function(warning) FALSE)
  }, dropped)
  if (length(data) > 0) {
    message("warning: ", source, ": ", length(data), " of the ", num_lines,
            " header line(s) removed read as data rows, e.g. ",
            deparse(substr(data[[1]], 1, 200)), "; fix: if the source has ",
            "no header, declare header=None (or fewer header lines)")
  }
  invisible(length(data))
}

header_fields <- function(text, dialect) {
  # The fields of one line of a delimited file, split by dialect
  # (list(delimiter, quote); an empty quote: no quoting).
  delimiter <- dialect[[1]]
  if (identical(dialect[[2]], "")) {
    return(strsplit(paste0(text, delimiter), delimiter, fixed = TRUE,
                    useBytes = TRUE)[[1]])
  }
  scan(text = text, what = "", sep = delimiter, quote = dialect[[2]],
       quiet = TRUE, na.strings = character(0), strip.white = FALSE)
}

header_positions <- function(line, source_names, dialect, label) {
  # Where each of source_names is among the fields of the header line, and
  # how many fields it has (list(positions, width)); a name it lacks fails,
  # naming those it has.
  text <- sub("\r$", "", sub("^\xef\xbb\xbf", "", line, useBytes = TRUE),
              useBytes = TRUE)
  header <- header_fields(text, dialect)
  missing <- setdiff(unlist(source_names), header)
  if (length(missing) > 0) {
    stop(label, ": the header names no column '", missing[[1]],
         "' (it names ", paste0("'", header, "'", collapse = ", "),
         "); fix: check the schema's source_names and the encoding's header ",
         "lines", call. = FALSE)
  }
  list(match(unlist(source_names), header), length(header))
}
