# [recipe]
# # nolint start
# constraint = "Downloaded"
# language = "r"
# entry = "download"
# summary = "The remote file is in the temporary directory, verified against its sha256 when one is declared."
# libraries = []
# uses = ["markers", "progress"]
# when = { engine = ["lake", "spark", "postgres"], "source.layout" = ["file"] }
#
# [recipe.parameters]
# url = { from = "source.url", doc = "HTTP(S) URL or local path of the source file" }
# destination = { from = "output", doc = "temporary file this step writes" }
# sha256 = { from = "source.sha256", doc = "expected hex digest, or NULL" }
# compression = { from = "source.compression", doc = "gzip, bz2, zip or NULL: checked once downloaded" }
# source_format = { from = "source.format", doc = "csv, tsv or jsonl: an HTML page is refused" }
# layout = { from = "source.layout", doc = "file (a directory is listed by the Python recipe)" }
# # nolint end

download <- function(url, destination, sha256, compression, source_format,
                     layout = "file") {
  # Fetch url (or copy a local path) to destination, verified before it is
  # trusted: the length the server announced (download.file() checks it),
  # the integrity of the declared compression (a truncated gzip fails here,
  # not three steps later), that the body is not an HTML page, and the
  # declared sha256. The marker records the file's sha256; a rerun asks the
  # source whether it changed (download_refresh()).
  if (!identical(layout, "file")) {
    stop("the R recipe reads one file, not a ", layout, ": the Python ",
         "recipe lists and reads a directory", call. = FALSE)
  }
  attempts <- 5
  expected <- tolower(trimws(c(sha256, NA)[[1]]))
  has_digest <- isTRUE(nzchar(expected, keepNA = TRUE))

  check <- function(ok, ...) {
    if (!ok) {
      stop(..., call. = FALSE)
    }
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

  verify <- function(part) {
    download_verify(part, url, source_format, compression,
                    if (has_digest) expected)
  }

  if (!is.null(compression) && !compression %in% c("gzip", "bz2", "zip")) {
    stop("unknown compression '", compression, "': expected gzip, bz2 or zip",
         call. = FALSE)
  }
  local <- download_local_path(url)
  parts <- list("download", url, if (has_digest) expected, compression,
                source_format)
  get <- function(part) {
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
  }
  # A copy made for these parameters is asked whether it is still current.
  key <- step_key(c(parts, list("")))
  marker <- strsplit(marker_text(destination), "\n", fixed = TRUE)[[1]]
  if (file.exists(destination) && identical(marker[1], key)) {
    download_refresh(url, local, destination, has_digest, marker, get)
  } else {
    produce(destination, parts, NULL, get)
    download_keep_validators(destination, download_validators(url, local))
  }
  invisible(destination)
}

download_validators <- function(url, local) {
  # What identifies the source's current content without reading it: the
  # ETag and Last-Modified a HEAD request returns, or a local file's size
  # and modification time; none when the server says neither.
  if (!is.null(local)) {
    info <- file.info(local)
    return(c(paste("size", info$size),
             paste("mtime", format(as.numeric(info$mtime), digits = 22))))
  }
  headers <- tryCatch(suppressWarnings(curlGetHeaders(url)),
                      error = function(error) character(0))
  if (!identical(attr(headers, "status"), 200L)) {
    return(character(0))
  }
  # The headers of the last response, after any redirect.
  starts <- grep("^HTTP/", headers)
  headers <- headers[max(c(starts, 1)):length(headers)]
  pick <- function(name) {
    line <- grep(paste0("^", name, ":"), headers, ignore.case = TRUE,
                 value = TRUE)
    if (length(line) > 0) {
      paste(tolower(name), trimws(sub("^[^:]*:", "", line[[1]])))
    }
  }
  c(pick("ETag"), pick("Last-Modified"))
}

download_keep_validators <- function(destination, validators) {
  # Keep validators beside the download: not in its marker, so that new
  # validators for the same bytes rerun nothing after it.
  path <- paste0(destination, ".source")
  if (length(validators) > 0) {
    write_atomically(path, validators)
  } else {
    unlink(path)
  }
}

download_refresh <- function(url, local, destination, pinned, marker, get) {
  # Keep the trusted download at destination if the source has not changed
  # (the same validators, or fetched again with the same sha256); replace it
  # and its marker if it has, so every step after it reruns.
  say <- function(...) {
    cat("download ", url, ": ", ..., "\n", sep = "")
    flush(stdout())
  }
  if (pinned) {
    # A declared sha256 pins the content: nothing to ask the server.
    return(say("up to date (sha256 declared)"))
  }
  path <- paste0(destination, ".source")
  held <- if (file.exists(path)) readLines(path, warn = FALSE) else NULL
  now <- download_validators(url, local)
  if (length(now) > 0 && identical(now, held)) {
    return(say("up to date (not modified)"))
  }
  part <- unique_part(destination)
  on.exit(unlink(part), add = TRUE)
  fact <- get(part)
  if (fact %in% marker[-(1:2)]) {
    say("up to date (same sha256)")
  } else {
    say("changed upstream")
    replace_made(destination, part, c(marker[1], "", fact))
    markers_found("made", sha256_text(marker_text(destination)))
  }
  download_keep_validators(destination, now)
}

download_local_path <- function(url) {
  # The local path url names, or NULL for an HTTP(S) URL.
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

download_verify <- function(part, url, source_format, compression, expected) {
  # Fail unless part is what the source should be: not an HTML page, a whole
  # file of its compression, and of the expected sha256 (NULL: any). The fact
  # its marker records: its sha256.
  html <- identical(file_kind(part), "html")
  if (html && !identical(source_format, "html")) {
    stop(url, " sent an HTML page, not ", source_format, " data; fix: ",
         "check the source URL (an error or login page?)", call. = FALSE)
  }
  if (!is.null(compression)) {
    check_compressed(part, compression, url)
  }
  out <- system2("sha256sum", stdout = TRUE, stdin = part)
  if (!is.null(attr(out, "status"))) {
    stop("sha256sum failed on ", part, call. = FALSE)
  }
  actual <- sub("[[:space:]].*$", "", out[[1]])
  if (!is.null(expected) && !identical(actual, expected)) {
    stop("sha256 mismatch for ", url, ": expected ", expected, ", got ",
         actual, call. = FALSE)
  }
  paste("sha256", actual)
}
