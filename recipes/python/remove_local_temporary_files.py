# [recipe]
# constraint = "TemporaryFilesRemoved"
# language = "python"
# entry = "remove_local_temporary_files"
# summary = "The temporary copies of the table's data on this machine (decompressed, header-less, CSV) and their markers are removed; the download stays, as the cache a rerun rebuilds them from. The staged copy is in the engine, dropped with its staging table."
# libraries = []
# uses = ["temporaries"]
# when = { engine = ["postgres", "spark"] }
#
# [recipe.parameters]
# files = { from = "temporaries", doc = "temporary files the table's earlier steps wrote, the download excepted" }


def remove_local_temporary_files(files: list[str]) -> None:
    """Remove each temporary file, its marker first. A missing file is fine: a rerun
    removes what is left. When AORIST_KEEP_TEMPORARY_FILES is set (and not "0"),
    nothing is removed."""
    # Each removed copy's marker stays as X.removed: a rerun needs the copy only when
    # the step reading it is not fresh (see markers.restore).
    remove_temporaries(files, remove_local_file, keep_markers=True)
