# [recipe]
# constraint = "Downloaded"
# language = "python"
# entry = "write_inline"
# summary = "The rows the declaration holds are written as header-less comma-separated values."
# libraries = []
# uses = ["markers"]
# when = { engine = ["lake", "spark", "postgres"], "source.layout" = ["inline"] }
#
# [recipe.parameters]
# rows = { from = "source.rows", doc = "the rows, one value per attribute in order (None: missing)" }
# destination = { from = "output", doc = "temporary file this step writes" }

import csv


def write_inline(rows: list, destination: str) -> None:
    """Write the rows as CSV without a header: the file every later step reads, as
    if it had been downloaded. New rows in the declaration make it again."""

    def cell(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    with producing(destination, ["write_inline", rows]) as output:
        if output is None:
            return
        with open(output.part, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            writer.writerows([cell(value) for value in row] for row in rows)
