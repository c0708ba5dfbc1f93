# [helper]
# name = "temporaries"
# language = "python"
# summary = "Temporary copies are removed marker first, unless AORIST_KEEP_TEMPORARY_FILES is set."
# uses = ["markers"]

import os


def remove_temporaries(
    paths: list[str], remove, keep_markers: bool = False, read=None, write=None
) -> None:
    """Remove each temporary copy with `remove(path)`, its marker first (a copy that
    stays must not stay trusted). `remove` returns whether there was one to remove: a
    missing copy is fine, a rerun removes what is left. With `keep_markers`, each
    marker stays as X.removed, read with `read(name)` ("" for none) and written with
    `write(name, text)` (local files when not given). When AORIST_KEEP_TEMPORARY_FILES
    is set (and not "0"), nothing is removed."""
    read = read or read_local_text
    write = write or write_atomically
    if os.environ.get("AORIST_KEEP_TEMPORARY_FILES", "") not in ("", "0"):
        print(
            "AORIST_KEEP_TEMPORARY_FILES is set: keeping " + ", ".join(paths) + "\n",
            end="",
            flush=True,
        )
        return
    removed = []
    for path in paths:
        marker = read(path + ".done") if keep_markers else ""
        if marker and read(path + ".removed") != marker:
            # The marker is kept as X.removed (untouched when it says the same): a
            # rerun tells a copy removed after use (its tables still fresh) from one
            # never made.
            write(path + ".removed", marker)
        remove(path + ".done")
        if remove(path):
            removed.append(path)
    if removed:
        print("removed " + ", ".join(removed) + "\n", end="", flush=True)
    elif (
        TASK.get() is not None
        and keep_markers
        and paths
        and all(read(path + ".removed") for path in paths)
    ):
        # Each copy was removed after an earlier run: the task was up to date.
        report_output("fresh", "up to date (nothing left to remove)")
    else:
        print("removed nothing (already removed)\n", end="", flush=True)


def read_local_text(path: str) -> str:
    """The text of file `path`, "" when there is none."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def remove_local_file(path: str) -> bool:
    """Remove the file `path`; False when there is none."""
    try:
        os.remove(path)
    except FileNotFoundError:
        return False
    return True
