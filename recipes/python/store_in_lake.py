# [recipe]
# constraint = "StoredInLake"
# language = "python"
# entry = "store_in_lake"
# summary = "The prepared CSV file is copied into the lake's staging area."
# libraries = []
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
    if os.path.exists(target):
        return
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    part = target + ".part"
    try:
        shutil.copyfile(source, part)
        os.replace(part, target)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise
