# [recipe]
# constraint = "HeaderRemoved"
# language = "python"
# entry = "remove_header"
# summary = "The leading header lines of the source file are dropped."
# libraries = []
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# num_lines = { from = "source.header_lines", doc = "number of leading lines to drop" }

import os
import shutil


def remove_header(source: str, destination: str, num_lines: int) -> None:
    """Copy source to destination without its first num_lines lines."""
    if isinstance(num_lines, bool) or not isinstance(num_lines, int) or num_lines < 0:
        raise ValueError(f"num_lines must be a non-negative integer, got {num_lines!r}")
    if os.path.exists(destination):
        return
    os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
    part = destination + ".part"
    try:
        with open(source, "rb") as reader, open(part, "wb") as out:
            for _ in range(num_lines):
                if not reader.readline():
                    break
            shutil.copyfileobj(reader, out, 1 << 20)
        os.replace(part, destination)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise
