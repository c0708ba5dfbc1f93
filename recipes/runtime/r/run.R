# [helper]
# # nolint start
# name = "run"
# language = "r"
# summary = "One run of a program: it holds the lake's lock, runs each step after its upstream steps, and goes on past a failed step with every step that does not need it."
# libraries = []
# program = true
# uses = ["markers"]
# # nolint end

# run_start() takes the lake's lock: the directory <lake>/.lock (mkdir is
# atomic), holding the owner's pid, host and start time in the file "owner",
# as the Python programs keep it, so they exclude each other too. A second
# run on the same lake stops at once with a message; a lock left by a
# process that died on this host is taken over. run_step() runs a task
# unless one of its upstream tasks failed or was skipped; a failed task is
# reported and the run goes on. run_finish() releases the lock and, when a
# task failed, lists the failures and exits with status 1.

run_start <- function(lake_path) {
  run <- new.env()
  run$lake_path <- lake_path
  run$lock <- file.path(lake_path, ".lock")
  run$owner <- paste(Sys.getpid(), Sys.info()[["nodename"]],
                     format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"))
  run$failed <- character(0)
  run$skipped <- character(0)
  # (task, version, outcome) of each task that made or failed something.
  run$records <- list()
  run$held <- FALSE
  dir.create(lake_path, recursive = TRUE, showWarnings = FALSE)
  for (attempt in 1:3) {
    if (dir.create(run$lock, showWarnings = FALSE)) {
      writeLines(run$owner, file.path(run$lock, "owner"))
      run$held <- TRUE
      return(run)
    }
    if (!dir.exists(run$lock)) {
      stop("cannot create the lock ", run$lock, call. = FALSE)
    }
    holder <- run_lock_holder(run$lock)
    if (!run_take_over(run$lock, holder)) {
      in_use <- if (nzchar(holder)) holder else "a run that is starting"
      stop("the lake ", lake_path, " is in use by ", in_use,
           " (pid, host, since); wait for that run to finish, or delete ",
           run$lock, " if that process is gone", call. = FALSE)
    }
  }
  stop("could not take the lock ", run$lock, "; try again", call. = FALSE)
}

run_lock_holder <- function(lock) {
  # The lock's owner line; a lock still without one after 2 s was abandoned.
  owner <- file.path(lock, "owner")
  for (attempt in 1:20) {
    # Warnings muffled, not caught: a caught one would leave a connection open.
    text <- tryCatch(
      suppressWarnings(trimws(paste(readLines(owner), collapse = " "))),
      error = function(error) ""
    )
    if (nzchar(text)) {
      return(text)
    }
    if (!dir.exists(lock)) {
      return("")
    }
    Sys.sleep(0.1)
  }
  ""
}

run_process_alive <- function(pid) {
  if (dir.exists("/proc/self")) {
    return(dir.exists(file.path("/proc", pid)))
  }
  status <- suppressWarnings(system2("ps", c("-p", pid),
                                     stdout = FALSE, stderr = FALSE))
  identical(status, 0L)
}

run_take_over <- function(lock, holder) {
  # Remove a lock whose owner died on this host; FALSE if it is (or may be)
  # alive.
  fields <- strsplit(holder, " ", fixed = TRUE)[[1]]
  if (length(fields) > 0) {
    pid <- suppressWarnings(as.integer(fields[[1]]))
    here <- length(fields) >= 2 && fields[[2]] == Sys.info()[["nodename"]]
    if (!here || is.na(pid)) {
      return(FALSE)
    }
    # A session that sources the program again finds its own lock: the old
    # run is over.
    if (pid != Sys.getpid() && run_process_alive(pid)) {
      return(FALSE)
    }
  }
  suffix <- paste(sample(c(0:9, letters[1:6]), 8, replace = TRUE),
                  collapse = "")
  stale <- paste0(lock, ".stale-", suffix)
  if (!suppressWarnings(file.rename(lock, stale))) {
    # Its owner released it meanwhile.
    return(!dir.exists(lock))
  }
  moved <- run_lock_holder(stale)
  if (!identical(moved, holder)) {
    # Another run took the stale lock over first: this one is alive.
    file.rename(stale, lock)
    return(FALSE)
  }
  unlink(stale, recursive = TRUE)
  message("took over the lock of a run that died (", holder, ")")
  TRUE
}

run_step <- function(run, task, upstream, fun = NULL, ...) {
  # Run fun(...) as task, unless an upstream task did not finish.
  upstream <- as.character(unlist(upstream))
  blocked <- upstream[upstream %in% c(names(run$failed), run$skipped)]
  if (length(blocked) > 0) {
    run$skipped <- c(run$skipped, task)
    message("skipped ", task, ": upstream ", blocked[[1]], " did not finish")
    return(invisible(FALSE))
  }
  message("running ", task)
  if (is.null(fun)) {
    return(invisible(TRUE))
  }
  start <- Sys.time()
  current <- markers_task()
  current$code <- code_version(fun)
  current$name <- task
  current$outcomes <- current$versions <- character(0)
  current$published <- FALSE
  on.exit(current$code <- current$name <- "", add = TRUE)
  error <- tryCatch({
    fun(...)
    NULL
  }, error = function(error) error)
  outcomes <- current$outcomes
  run_record(run, task, current, error)
  if (is.null(error) && length(outcomes) > 0 && all(outcomes == "fresh")) {
    message("skipped ", task, ": up to date")
    return(invisible(TRUE))
  }
  if (is.null(error)) {
    seconds <- as.numeric(difftime(Sys.time(), start, units = "secs"))
    if (seconds >= 1) {
      message("finished ", task, " in ", sprintf("%.1f", seconds), " s")
    }
    return(invisible(TRUE))
  }
  run$failed[[task]] <- conditionMessage(error)
  message("FAILED ", task, ": ", conditionMessage(error))
  invisible(FALSE)
}

run_record <- function(run, task, current, error) {
  # Keep the task's version and outcome for the lake's state table when it
  # failed, or made something it did not record as it published.
  outcome <- if (!is.null(error)) {
    "failed"
  } else if ("made" %in% current$outcomes && !isTRUE(current$published)) {
    "made"
  } else {
    return(invisible(run))
  }
  run$records[[length(run$records) + 1]] <- c(task, markers_version(), outcome)
  invisible(run)
}

run_finish <- function(run, interrupted = FALSE) {
  # Write the state table (see lake_publish, when the program publishes to
  # the lake), release the lock; exit with status 1, listing them, if tasks
  # failed.
  if (run$held) {
    tryCatch({
      if (length(run$records) > 0 &&
            exists("lake_record_steps", mode = "function")) {
        writer <- get("lake_record_steps", mode = "function")
        writer(run$lake_path, run$records)
      }
    }, finally = {
      run$records <- list()
      unlink(run$lock, recursive = TRUE)
      run$held <- FALSE
    })
  }
  if (length(run$failed) == 0 || interrupted) {
    return(invisible(run))
  }
  # The first line of each error; the whole of it was shown when it failed.
  first <- vapply(strsplit(run$failed, "\n", fixed = TRUE),
                  function(lines) c(lines, "")[[1]], "")
  skipped <- if (length(run$skipped) > 0) {
    paste0("; ", length(run$skipped), " skipped after them")
  } else {
    ""
  }
  summary <- paste0(length(run$failed), " task(s) failed", skipped, ":\n",
                    paste0("  ", names(run$failed), ": ", first,
                           collapse = "\n"))
  if (interactive()) {
    stop(summary, call. = FALSE)
  }
  message(summary)
  quit(save = "no", status = 1)
}
