# [recipe]
# constraint = "TemporaryFilesRemoved"
# language = "python"
# entry = "remove_temporary_files"
# summary = "The temporary copies of the table's data (decompressed, header-less, CSV, staged) and their markers are removed; the download stays, as the cache a rerun rebuilds them from."
# libraries = []
# uses = ["temporaries"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory" }
# files = { from = "temporaries", doc = "temporary files the table's earlier steps wrote, the download excepted" }
# staged = { from = "staging.file", doc = "lake-relative path of the staged copy" }

import os


def remove_temporary_files(lake_path: str, files: list[str], staged: str) -> None:
    """Remove each temporary file and the staged copy, each with its marker first (a
    file that stays must not stay trusted). A missing file is fine: a rerun removes
    what is left. When AORIST_KEEP_TEMPORARY_FILES is set (and not "0"), nothing is
    removed."""
    # The lake keeps each removed copy's marker (X.removed) for `--dry-run`.
    remove_temporaries(
        [*files, os.path.join(lake_path, staged)], remove_local_file, keep_markers=True
    )
