# [recipe]
# constraint = "StoredInLake"
# language = "python"
# entry = "objectstore_store"
# summary = "The prepared CSV object is copied into the bucket's staging area."
# libraries = ["pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# source = { from = "input", doc = "bucket key written by the upstream step" }
# destination = { from = "staging.file", doc = "bucket key of the staged file" }

import shutil


def objectstore_store(config: dict, source: str, destination: str) -> None:
    """Copy object source to the staging key destination."""
    with s3_local_step(config, source, destination, ["objectstore_store"]) as step:
        if step is None:
            return
        local, output = step
        check_plain_text(local, "uncompressed CSV")
        shutil.copyfile(local, output.part)
