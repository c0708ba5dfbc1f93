# [recipe]
# # nolint start
# constraint = "Downloaded"
# language = "r"
# entry = "download"
# summary = "The remote file is in the temporary directory, verified against its sha256 when one is declared."
# libraries = []
# uses = ["markers", "progress"]
# when = { engine = ["lake", "spark", "postgres"] }
#
# [recipe.parameters]
# url = { from = "source.url", doc = "HTTP(S) URL or local path of the source file" }
# destination = { from = "output", doc = "temporary file this step writes" }
# sha256 = { from = "source.sha256", doc = "expected hex digest, or NULL" }
# compression = { from = "source.compression", doc = "gzip, bz2, zip or NULL: checked once downloaded" }
# source_format = { from = "source.format", doc = "csv, tsv or jsonl: an HTML page is refused" }
# # nolint end

download <- function(url, destination, sha256, compression, source_format) {
  # Fetch url (or copy a local path) to destination, verified before it is
  # trusted: the length the server announced (download.file() checks it),
  # the integrity of the declared compression (a truncated gzip fails here,
  # not three steps later), that the body is not an HTML page, and the
  # declared sha256. The marker records the file's md5.
  attempts <- 5
  expected <- tolower(trimws(c(sha256, NA)[[1]]))
  has_digest <- isTRUE(nzchar(expected, keepNA = TRUE))

  check <- function(ok, ...) {
    if (!ok) {
      stop(..., call. = FALSE)
    }
  }

  digest_of <- function(path) {
    out <- system2("sha256sum", stdout = TRUE, stdin = path)
    check(is.null(attr(out, "status")), "sha256sum failed on ", path)
    sub("[[:space:]].*$", "", out[[1]])
  }

  # download.file() reports HTTP errors and short bodies as warnings: any
  # warning or error fails the attempt. Returns the messages.
  fetch_once <- function(path) {
    messages <- character(0)
    note <- function(condition) {
      messages <<- c(messages, conditionMessage(condition))
    }
    withCallingHandlers(
      tryCatch(
        download.file(
          url, path,
          mode = "wb", quiet = TRUE, headers = c("User-Agent" = "aorist")
        ),
        error = note
      ),
      warning = function(w) {
        note(w)
        invokeRestart("muffleWarning")
      }
    )
    messages
  }

  # Server errors (5xx, 429) and network errors are retried with backoff;
  # other HTTP errors fail at once.
  fetch <- function(path, attempt = 1) {
    messages <- fetch_once(path)
    found <- regmatches(messages, regexpr("status was '[0-9]{3}", messages))
    status <- as.integer(substr(c(found, NA)[[1]], 13, 15))
    retryable <- is.na(status) | status >= 500 | status == 429
    again <- length(messages) > 0 & retryable & attempt < attempts
    if (again) {
      Sys.sleep(0.5 * 2^(attempt - 1))
      fetch(path, attempt + 1)
    } else {
      check(length(messages) == 0, "download of ", url, " failed after ",
            attempt, " attempt(s): ", paste(messages, collapse = "; "))
    }
  }

  local_path <- function() {
    scheme <- regmatches(url, regexpr("^[A-Za-z][A-Za-z0-9+.-]*:", url))
    scheme <- tolower(sub(":$", "", c(scheme, "none")[[1]]))
    drive <- nchar(scheme) == 1 & .Platform$OS.type == "windows"
    switch(if (drive) "none" else scheme,
      none = url,
      file = utils::URLdecode(sub("^//[^/]*", "", sub("^[^:]*:", "", url))),
      http = NULL,
      https = NULL,
      stop("unsupported URL scheme '", scheme, "' in '", url, "'",
           call. = FALSE)
    )
  }

  verify <- function(part) {
    html <- identical(file_kind(part), "html")
    if (html && !identical(source_format, "html")) {
      stop(url, " sent an HTML page, not ", source_format, " data; fix: ",
           "check the source URL (an error or login page?)", call. = FALSE)
    }
    if (!is.null(compression)) {
      check_compressed(part, compression, url)
    }
    if (has_digest) {
      actual <- digest_of(part)
      check(identical(actual, expected), "sha256 mismatch for ", url,
            ": expected ", expected, ", got ", actual)
    }
    paste("md5", unname(tools::md5sum(part)))
  }

  if (!is.null(compression) && !compression %in% c("gzip", "bz2", "zip")) {
    stop("unknown compression '", compression, "': expected gzip, bz2 or zip",
         call. = FALSE)
  }
  local <- local_path()
  parts <- list("download", url, if (has_digest) expected, compression,
                source_format)
  produce(destination, parts, NULL, function(part) {
    start <- Sys.time()
    label <- paste("download", url)
    if (is.null(local)) {
      old <- options(timeout = max(3600, getOption("timeout")))
      on.exit(options(old), add = TRUE)
      with_progress(label, part, NULL, function() fetch(part))
    } else {
      check(file.copy(local, part, overwrite = TRUE),
            "cannot copy ", local, " to ", part)
    }
    facts <- verify(part)
    size <- format(file.size(part), big.mark = ",", scientific = FALSE)
    progress_finish(label, paste(size, "bytes"), start)
    facts
  })
  invisible(destination)
}
