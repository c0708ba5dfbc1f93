# [runtime]
# # nolint start
# name = "run_python"
# language = "r"
# runs = "python"
# summary = "Runs a Python recipe with python3 (or the interpreter AORIST_PYTHON names), its arguments passed as a JSON file, never spliced into code."
# libraries = []
# # nolint end

run_python <- function(.source, .entry, ...) {
  # Run the Python code .source (a recipe, after the helpers and functions
  # it uses) with python3, or the interpreter the environment variable
  # AORIST_PYTHON names (a command on the PATH or a path), and call its
  # top-level function .entry with the named arguments in ... as keyword
  # arguments (the dots keep a recipe parameter, a Python name, from
  # matching them). The code runs in a fresh namespace whose __name__ is
  # "__aorist_step__", so globals()[name] finds its top-level functions.
  # The arguments travel as a JSON file, never as code: NULL and NA become
  # None, TRUE and FALSE True and False, a whole number an int, another
  # number a float, a string a str, a vector of a length other than one and
  # an unnamed list a list, a named list a dict. R cannot tell c("a") from
  # "a", nor 100 from 100.0: where .entry's parameter is annotated as a list
  # (list[str], list[list[str]] | None, ...), a single value is wrapped into
  # a one-element list, at every depth the annotation describes; an int or
  # float annotation converts the number. Python's output goes to the
  # console; when the process fails, this fails with its error output.
  params <- list(...)
  labels <- names(params)
  if (length(params) > 0 &&
        (is.null(labels) || !all(nzchar(labels)) || anyDuplicated(labels))) {
    stop("run_python() passes keyword arguments: name each argument once",
         call. = FALSE)
  }

  # Reads the code and the arguments, calls the entry; argv: code file,
  # arguments file, entry name.
  driver <- c(
    "import collections.abc",
    "import inspect",
    "import json",
    "import os",
    "import sys",
    "import types",
    "import typing",
    "",
    "# Nothing next to this file is importable.",
    "here = os.path.dirname(os.path.realpath(__file__))",
    "if sys.path and os.path.realpath(sys.path[0] or '.') == here:",
    "    del sys.path[0]",
    "code_file, arguments_file, entry = sys.argv[1:4]",
    "",
    "",
    "def coerce(value, kind):",
    "    # value as the annotation kind describes it.",
    "    origin = typing.get_origin(kind)",
    "    if origin in (typing.Union, types.UnionType):",
    "        options = [k for k in typing.get_args(kind)",
    "                   if k is not type(None)]",
    "        if value is None or len(options) != 1:",
    "            return value",
    "        return coerce(value, options[0])",
    "    if value is None:",
    "        return None",
    "    if kind is float and type(value) is int:",
    "        return float(value)",
    "    if kind is int and type(value) is float and value.is_integer():",
    "        return int(value)",
    "    sequences = (list, collections.abc.Sequence)",
    "    if kind in sequences or origin in sequences:",
    "        items = value if isinstance(value, list) else [value]",
    "        (item_kind,) = typing.get_args(kind) or (object,)",
    "        return [coerce(item, item_kind) for item in items]",
    "    if origin is dict and isinstance(value, dict):",
    "        _, item_kind = typing.get_args(kind)",
    "        return {key: coerce(item, item_kind)",
    "                for key, item in value.items()}",
    "    return value",
    "",
    "",
    "with open(code_file, encoding='utf-8') as handle:",
    "    code = compile(handle.read(), code_file, 'exec', dont_inherit=True)",
    "namespace = {'__name__': '__aorist_step__'}",
    "exec(code, namespace)",
    "function = namespace.get(entry)",
    "if not callable(function):",
    "    sys.exit(f'the Python code defines no function {entry!r}')",
    "with open(arguments_file, encoding='ascii') as handle:",
    "    arguments = json.load(handle)",
    "try:",
    "    parameters = inspect.signature(function, eval_str=True).parameters",
    "except NameError:",
    "    parameters = inspect.signature(function).parameters",
    "for name, value in arguments.items():",
    "    if name in parameters:",
    "        kind = parameters[name].annotation",
    "        if kind is not inspect.Parameter.empty:",
    "            arguments[name] = coerce(value, kind)",
    "function(**arguments)"
  )

  python <- Sys.getenv("AORIST_PYTHON")
  if (!nzchar(python)) {
    python <- "python3"
  }
  if (!nzchar(Sys.which(python))) {
    stop("Python recipe ", .entry, " needs Python 3, but ", python,
         " was not found; fix: install python3 with the libraries the ",
         "program lists, or set AORIST_PYTHON to the interpreter to use",
         call. = FALSE)
  }

  files <- c(code = tempfile("aorist-step-", fileext = ".py"),
             arguments = tempfile("aorist-arguments-", fileext = ".json"),
             driver = tempfile("aorist-driver-", fileext = ".py"),
             errors = tempfile("aorist-errors-", fileext = ".txt"))
  on.exit(unlink(files), add = TRUE)
  writeLines(enc2utf8(.source), files[["code"]], useBytes = TRUE)
  writeLines(if (length(params) > 0) run_python_json(params) else "{}",
             files[["arguments"]], useBytes = TRUE)
  writeLines(driver, files[["driver"]], useBytes = TRUE)

  library_path <- run_python_library_path()

  status <- suppressWarnings(system2(
    python,
    shQuote(c(files[["driver"]], files[["code"]], files[["arguments"]],
              .entry)),
    stdout = "", stderr = files[["errors"]],
    env = paste0("LD_LIBRARY_PATH=", shQuote(library_path))
  ))
  said <- readLines(files[["errors"]], warn = FALSE)
  if (!identical(status, 0L)) {
    # The exception (the last line Python wrote) first: run_step() reports
    # a failure's first line.
    lines <- said[nzchar(trimws(said))]
    last <- if (length(lines) > 0) lines[[length(lines)]] else "no output"
    stop("Python recipe ", .entry, " failed (exit status ", status, "): ",
         last, "\n", paste(said, collapse = "\n"), call. = FALSE)
  }
  if (length(said) > 0) {
    message(paste(said, collapse = "\n"))
  }
  invisible(NULL)
}


run_python_json <- function(value) {
  # value as JSON text, for run_python().
  if (is.null(value)) {
    return("null")
  }
  atomic <- any(is.character(value), is.logical(value), is.numeric(value))
  if (!any(atomic, is.list(value))) {
    stop("cannot pass a ", class(value)[[1]], " to a Python recipe",
         call. = FALSE)
  }
  encode <- if (atomic) run_python_json_scalar else run_python_json
  items <- vapply(seq_along(value), function(i) encode(value[[i]]), "")
  keys <- names(value)
  if (!is.null(keys)) {
    if (any(!nzchar(keys), is.na(keys))) {
      stop("a list passed to Python names all its items or none",
           call. = FALSE)
    }
    keys <- vapply(keys, run_python_json_string, "", USE.NAMES = FALSE)
    return(paste0("{", paste0(keys, ": ", items, collapse = ", "), "}"))
  }
  if (all(atomic, length(items) == 1)) {
    return(items)
  }
  paste0("[", paste(items, collapse = ", "), "]")
}

run_python_json_scalar <- function(x) {
  # One string, number or logical as JSON; NA as null. A whole number below
  # 2^53 is an int, another number the shortest of 15 to 17 digits that
  # reads back as x.
  if (is.character(x)) {
    return(if (is.na(x)) "null" else run_python_json_string(x))
  }
  special <- c("NA" = "null", "NaN" = "NaN", "Inf" = "Infinity",
               "-Inf" = "-Infinity", "TRUE" = "true", "FALSE" = "false")
  key <- paste(x)
  if (key %in% names(special)) {
    return(special[[key]])
  }
  if (any(is.integer(x), all(x == trunc(x), abs(x) < 2^53))) {
    return(sprintf("%.0f", x))
  }
  text <- sprintf("%.*g", 15:17, x)
  text <- text[as.numeric(text) == x][[1]]
  # A float, even when its digits are those of a (big) whole number.
  if (grepl("[.e]", text)) text else paste0(text, ".0")
}

run_python_json_string <- function(text) {
  # text as a JSON string: every character but printable ASCII as \uXXXX
  # (a surrogate pair beyond U+FFFF), so the file is ASCII in any locale.
  codes <- utf8ToInt(enc2utf8(text))
  if (anyNA(codes)) {
    stop("a string passed to Python is not valid UTF-8", call. = FALSE)
  }
  pieces <- sprintf("\\u%04x", codes)
  plain <- codes >= 32 & codes < 127 & !codes %in% c(34, 92)
  pieces[plain] <- intToUtf8(codes[plain], multiple = TRUE)
  high <- codes > 65535
  offset <- codes[high] - 65536
  pieces[high] <- sprintf("\\u%04x\\u%04x", 55296 + offset %/% 1024,
                          56320 + offset %% 1024)
  paste0("\"", paste(pieces, collapse = ""), "\"")
}

run_python_library_path <- function() {
  # The LD_LIBRARY_PATH R was started with. R's start-up script
  # (R_HOME/etc/ldpaths) puts its library directories first, where an
  # interpreter built with a shared libpython could load another Python's.
  library_path <- Sys.getenv("LD_LIBRARY_PATH")
  ldpaths <- file.path(R.home("etc"), "ldpaths")
  if (!nzchar(library_path) || !file.exists(ldpaths)) {
    return(library_path)
  }
  added <- suppressWarnings(system2("sh", shQuote(c(
    "-c", "LD_LIBRARY_PATH=; . \"$0\"; printf %s \"$LD_LIBRARY_PATH\"",
    ldpaths
  )), stdout = TRUE, stderr = FALSE))
  added <- paste(added, collapse = "")
  if (identical(library_path, added)) {
    return("")
  }
  if (nzchar(added) && startsWith(library_path, paste0(added, ":"))) {
    return(substring(library_path, nchar(added) + 2))
  }
  library_path
}
