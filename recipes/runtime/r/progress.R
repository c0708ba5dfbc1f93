# [helper]
# # nolint start
# name = "progress"
# language = "r"
# summary = "Long work reports how far it is, at most once a second, and one line when it ends."
# libraries = []
# # nolint end

progress_amount <- function(value, unit) {
  # value units as text: megabytes for bytes, else a count.
  if (identical(unit, "bytes")) {
    return(sprintf("%.1f MB", value / 1e6))
  }
  paste(format(round(value), big.mark = ",", scientific = FALSE), unit)
}

with_progress <- function(label, path, total, work) {
  # work() and its value. R runs one thing at a time, so work runs in a
  # forked process (where the system forks) while this one reports, at most
  # once a second, the bytes written to path so far, of total when known
  # (NULL: unknown), and the rate. An error in work is raised here.
  start <- Sys.time()
  if (.Platform$OS.type != "unix") {
    return(work())
  }
  job <- parallel::mcparallel(list(value = work()), silent = FALSE)
  done <- NULL
  # Interrupted, or failed here: the work stops too, and its process is reaped.
  on.exit(if (is.null(done)) {
    tools::pskill(job$pid, tools::SIGKILL)
    parallel::mccollect(job, wait = FALSE, timeout = 1)
  }, add = TRUE)
  repeat {
    done <- parallel::mccollect(job, wait = FALSE, timeout = 1)
    if (!is.null(done)) {
      break
    }
    elapsed <- as.numeric(difftime(Sys.time(), start, units = "secs"))
    size <- c(file.size(path), 0)[[1]]
    size <- if (is.na(size)) 0 else size
    of <- if (is.null(total) || !isTRUE(total > 0)) {
      ""
    } else {
      sprintf(" of %s (%.0f%%)", progress_amount(total, "bytes"),
              100 * size / total)
    }
    cat(label, ": ", progress_amount(size, "bytes"), of, ", ",
        progress_amount(size / max(elapsed, 1e-9), "bytes"), "/s\n", sep = "")
    flush(stdout())
  }
  result <- done[[1]]
  if (inherits(result, "try-error")) {
    stop(conditionMessage(attr(result, "condition")), call. = FALSE)
  }
  if (!is.list(result) || !"value" %in% names(result)) {
    stop(label, ": the process doing the work ended without a result",
         call. = FALSE)
  }
  result$value
}

progress_finish <- function(label, what, start) {
  # One closing line: what was made, and how long since start.
  seconds <- as.numeric(difftime(Sys.time(), start, units = "secs"))
  cat(label, ": ", what, " in ", sprintf("%.1f", seconds), " s\n", sep = "")
  flush(stdout())
}
