# [recipe]
# constraint = "Downloaded"
# language = "python"
# entry = "write_inline"
# summary = "The rows the declaration holds are written as header-less comma-separated values."
# libraries = []
# uses = ["markers", "header_lines", "as_csv"]
# when = { engine = ["lake", "spark", "postgres"], "source.layout" = ["inline"] }
#
# [recipe.parameters]
# rows = { from = "source.rows", doc = "the rows, one value per attribute in order (None: missing)" }
# destination = { from = "output", doc = "temporary file this step writes" }


def write_inline(rows: list, destination: str) -> None:
    """Write the rows as CSV without a header: the file every later step reads, as
    if it had been downloaded. New rows in the declaration make it again."""
    with producing(destination, ["write_inline", rows]) as output:
        if output is not None:
            write_rows_as_csv(rows, output.part)
