# [recipe]
# constraint = "HeaderRemoved"
# language = "python"
# entry = "objectstore_remove_header"
# summary = "The leading header lines of the source object are dropped."
# libraries = ["pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# source = { from = "input", doc = "bucket key written by the upstream step" }
# destination = { from = "output", doc = "bucket key this step writes" }
# num_lines = { from = "source.header_lines", doc = "number of leading lines to drop" }

import shutil


def objectstore_remove_header(
    config: dict, source: str, destination: str, num_lines: int
) -> None:
    """Copy object source to destination without its first num_lines lines."""
    if isinstance(num_lines, bool) or not isinstance(num_lines, int) or num_lines < 0:
        raise ValueError(f"num_lines must be a non-negative integer, got {num_lines!r}")
    parts = ["objectstore_remove_header", num_lines]
    with s3_local_step(config, source, destination, parts) as step:
        if step is None:
            return
        local, output = step
        check_plain_text(local, "uncompressed text")
        with open(local, "rb") as reader, open(output.part, "wb") as out:
            for _ in range(num_lines):
                if not reader.readline():
                    break
            shutil.copyfileobj(reader, out, 1 << 20)
