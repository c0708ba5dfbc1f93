# [recipe]
# constraint = "StoredInLake"
# language = "python"
# entry = "store_in_lake"
# summary = "The prepared CSV file is copied into the lake's staging area."
# libraries = []
# uses = ["markers"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# lake_path = { from = "settings.lake_path", doc = "lake directory" }
# destination = { from = "staging.file", doc = "lake-relative path of the staged file" }

import os
import shutil


def store_in_lake(source: str, lake_path: str, destination: str) -> None:
    """Copy source to lake_path/destination atomically."""
    target = os.path.join(lake_path, destination)
    with producing(target, ["store_in_lake"], source) as output:
        if output is None:
            return
        check_plain_text(source, "uncompressed CSV")
        shutil.copyfile(source, output.part)
