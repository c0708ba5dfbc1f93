# [helper]
# # nolint start
# name = "markers"
# language = "r"
# summary = "A step's output is trusted only if the step finished, for the inputs and parameters that made it."
# libraries = []
# # nolint end

# Each output file OUT of a step has a marker OUT.done, written after OUT is in
# place:
#   line 1: the step's key: a digest of its recipe, parameters and its input's
#           marker
#   line 2: the input file it read (empty for none; several are
#           tab-separated); later lines: facts.
# A step is skipped only when OUT exists and its marker holds the key the step
# has now, so a changed recipe or parameter reruns the step and, through the
# keys, every step after it.


markers_task <- function() {
  # The task a recipe runs as (set by run_step()), an environment kept in
  # the option aorist.task: the digest of its recipe's code ($code), which
  # joins every key it makes, what each of its outputs was found to be
  # ($outcomes: "fresh" or "made"), the versions of those ($versions: their
  # markers' digests) and whether it published a lake table ($published: the
  # publishing transaction records its version).
  task <- getOption("aorist.task")
  if (is.null(task)) {
    task <- new.env()
    task$code <- ""
    task$outcomes <- character(0)
    task$versions <- character(0)
    task$published <- FALSE
    options(aorist.task = task)
  }
  task
}

markers_found <- function(state, version = "") {
  # Tell the running task what one of its outputs was found to be, and its
  # version.
  task <- markers_task()
  task$outcomes <- c(task$outcomes, state)
  if (nzchar(version)) {
    task$versions <- c(task$versions, version)
  }
  invisible(task)
}

markers_version <- function() {
  # The running task's version: that of its one output, or a digest of all.
  versions <- markers_task()$versions
  if (length(versions) == 1) versions else sha256_text(key_text(versions))
}

marker_text <- function(path) {
  # The marker of path, or "" when there is none (the file is not trusted).
  marker <- paste0(path, ".done")
  size <- file.size(marker)
  # A warning caught by tryCatch() would leave readChar()'s connection open:
  # warnings are muffled, and a marker removed meanwhile reads as none.
  text <- tryCatch(
    suppressWarnings(readChar(marker, size, useBytes = TRUE)),
    error = function(error) ""
  )
  if (!is.na(size) && length(text) == 1 && !is.na(text)) text else ""
}

key_text <- function(value) {
  # value as text that keeps its structure: vectors and lists are bracketed
  # lists of their items, each prefixed with its length in bytes; a scalar
  # is prefixed with its type.
  if (is.null(value)) {
    return("N")
  }
  if (is.list(value) || length(value) != 1) {
    items <- vapply(value, key_text, "")
    if (length(items) == 0) {
      return("[]")
    }
    sizes <- nchar(items, type = "bytes")
    return(paste0("[", paste0(sizes, ":", items, "\n", collapse = ""), "]"))
  }
  # A scalar is prefixed with its type: the string "N" is not NULL, nor "1" 1.
  if (is.na(value)) "NA" else paste0(typeof(value), ":",
                                      enc2utf8(as.character(value)))
}

markers_task_name <- function(default) {
  # The name of the running task, or default outside one.
  name <- markers_task()$name
  if (is.null(name) || !nzchar(name)) default else name
}

sha256_text <- function(text) {
  # The sha256 digest of text (coreutils' sha256sum; base R has none).
  file <- tempfile("aorist-key-")
  on.exit(unlink(file), add = TRUE)
  writeBin(charToRaw(enc2utf8(text)), file)
  out <- system2("sha256sum", stdout = TRUE, stdin = file)
  if (!is.null(attr(out, "status"))) {
    stop("sha256sum failed", call. = FALSE)
  }
  strsplit(out[[1]], " ", fixed = TRUE)[[1]][[1]]
}

code_version <- function(fun) {
  # The digest of a recipe's code as generated (deparsed).
  if (is.null(fun)) "" else sha256_text(paste(deparse(fun), collapse = "\n"))
}

step_key <- function(parts) {
  # The sha256 digest of the running recipe's code and parts (a list), each
  # part length-prefixed.
  sha256_text(key_text(c(list(markers_task()$code), parts)))
}

unique_part <- function(path) {
  # A temporary name next to path that no other run or step uses.
  suffix <- paste(sample(c(0:9, letters[1:6]), 8, replace = TRUE),
                  collapse = "")
  paste0(path, ".", Sys.getpid(), "-", suffix, ".part")
}

invalidate <- function(path) {
  # Distrust path (or each of several) and everything it was made from:
  # their markers go, the files stay. A step failing on its input calls
  # this, so that once the source is fixed the next run makes every file
  # again.
  seen <- character(0)
  pending <- as.character(unlist(path))
  while (length(pending) > 0) {
    path <- pending[[1]]
    pending <- pending[-1]
    if (is.na(path) || !nzchar(path) || path %in% seen) {
      next
    }
    seen <- c(seen, path)
    lines <- strsplit(marker_text(path), "\n", fixed = TRUE)
    unlink(paste0(path, ".done"))
    upstream <- c(lines[[1]], "", "")[[2]]
    pending <- c(pending, strsplit(upstream, "\t", fixed = TRUE)[[1]])
  }
  invisible(seen)
}

write_atomically <- function(path, lines) {
  # Write lines to path through a unique part renamed onto it.
  part <- unique_part(path)
  on.exit(unlink(part), add = TRUE)
  writeBin(charToRaw(paste0(paste(lines, collapse = "\n"), "\n")), part)
  if (!file.rename(part, path)) {
    stop("cannot rename ", part, " to ", path, call. = FALSE)
  }
}

replace_made <- function(destination, part, lines) {
  # Put the file part in place of destination, a made file whose input
  # changed, with the marker lines: untrusted meanwhile, so that a kill makes
  # it again.
  unlink(paste0(destination, ".done"))
  if (!file.rename(part, destination)) {
    stop("cannot rename ", part, " to ", destination, call. = FALSE)
  }
  write_atomically(paste0(destination, ".done"), lines)
}

produce <- function(destination, parts, source, make) {
  # Make destination unless an earlier run made it for the same key.
  # parts: what decides the content besides the input (recipe name,
  # parameters), a list; source: the input file (NULL for none, or a vector
  # of several), whose marker joins the key. make(part) writes the file part
  # and returns the facts (a character vector, or NULL) to record in the
  # marker. On success part is renamed onto destination and the marker
  # written; on an error part is removed and the input distrusted. Returns
  # whether it made the file.
  # One input's marker joins the key as text, several as a list.
  input <- lapply(source, marker_text)
  input <- if (length(input) > 1) input else c(input, "")[[1]]
  key <- step_key(c(parts, list(input)))
  marker <- strsplit(marker_text(destination), "\n", fixed = TRUE)[[1]]
  if (file.exists(destination) && identical(marker[1], key)) {
    markers_found("fresh", sha256_text(marker_text(destination)))
    return(invisible(FALSE))
  }
  unlink(paste0(destination, ".done"))
  dir.create(dirname(destination), recursive = TRUE, showWarnings = FALSE)
  part <- unique_part(destination)
  on.exit(unlink(part), add = TRUE)
  facts <- tryCatch(make(part), error = function(error) {
    unlink(part)
    invalidate(source)
    stop(error)
  })
  if (!file.rename(part, destination)) {
    stop("cannot rename ", part, " to ", destination, call. = FALSE)
  }
  facts <- if (is.character(facts)) facts else character(0)
  input_path <- paste(source, collapse = "\t")
  write_atomically(paste0(destination, ".done"), c(key, input_path, facts))
  markers_found("made", sha256_text(marker_text(destination)))
  invisible(TRUE)
}

file_kind <- function(path) {
  # What the start of path says it is: "gzip", "bz2", "zip", "html" or "".
  head <- readBin(path, "raw", 512L)
  starts <- function(magic) {
    length(head) >= length(magic) &&
      identical(head[seq_along(magic)], as.raw(magic))
  }
  # Leading white space dropped, ASCII letters lowered: bytes, any locale.
  text <- head[cumsum(!head %in% as.raw(c(9:13, 32))) > 0]
  upper <- text >= as.raw(65) & text <= as.raw(90)
  text[upper] <- as.raw(as.integer(text[upper]) + 32L)
  html <- vapply(c("<!doctype html", "<html"), function(prefix) {
    magic <- charToRaw(prefix)
    length(text) >= length(magic) &&
      identical(text[seq_along(magic)], magic)
  }, TRUE)
  if (starts(c(0x1f, 0x8b))) {
    "gzip"
  } else if (starts(c(0x42, 0x5a, 0x68))) {
    "bz2"
  } else if (starts(c(0x50, 0x4b, 0x03, 0x04))) {
    "zip"
  } else if (any(html)) {
    "html"
  } else {
    ""
  }
}

check_plain_text <- function(path, declared) {
  # Fail at once, saying what the file is, when it is not the text it
  # should be.
  found <- switch(file_kind(path),
    gzip = c("gzip-compressed", "declare compression=GzipCompression()"),
    bz2 = c("bzip2-compressed", "declare compression=BZip2Compression()"),
    zip = c("a zip archive", "declare compression=ZipCompression()"),
    html = c("an HTML page",
             "check the source URL: the server sent a web page"),
    NULL
  )
  if (!is.null(found)) {
    stop(path, " is ", found[[1]], ", but the source is declared as ",
         declared, "; fix: ", found[[2]], call. = FALSE)
  }
  invisible(path)
}

check_compressed <- function(path, compression, name = path) {
  # Fail unless path is a whole file of its compression (gzip, bz2 or zip).
  # R's gzfile(), bzfile() and unz() read a truncated stream or a member
  # whose CRC does not match without a word, so the compression's own tool
  # tests the file: gzip -t, bzip2 -t or unzip -t.
  magic <- c(gzip = "gzip", bz2 = "bz2", zip = "zip")[[compression]]
  if (!identical(file_kind(path), magic)) {
    head <- readBin(path, "raw", 16L)
    stop(name, " is not ", compression, "-compressed (it starts with ",
         paste(head, collapse = " "), "); fix: declare the source's real ",
         "compression", call. = FALSE)
  }
  tool <- c(gzip = "gzip", bz2 = "bzip2", zip = "unzip")[[compression]]
  if (!nzchar(Sys.which(tool))) {
    stop(tool, " is needed to check ", compression, " files; fix: install ",
         tool, call. = FALSE)
  }
  # An absolute path never reads as an option.
  absolute <- normalizePath(path)
  errors <- tempfile()
  on.exit(unlink(errors), add = TRUE)
  status <- suppressWarnings(system2(
    tool, c(if (tool == "unzip") "-tqq" else "-t", shQuote(absolute)),
    stdout = errors, stderr = errors
  ))
  if (!identical(status, 0L)) {
    said <- trimws(paste(readLines(errors, warn = FALSE), collapse = " "))
    said <- gsub(absolute, "", gsub(paste0(absolute, ": "), "", said,
                                    fixed = TRUE), fixed = TRUE)
    stop(name, " is truncated or corrupt: ", tool, " -t says \"", said,
         "\"; fix: check the source, or declare its real compression",
         call. = FALSE)
  }
  invisible(path)
}
