# [recipe]
# constraint = "Downloaded"
# language = "python"
# entry = "objectstore_write_inline"
# summary = "The rows the declaration holds are written to the bucket as header-less comma-separated values."
# libraries = []
# uses = ["markers", "objectstore", "header_lines", "as_csv"]
# when = { engine = ["objectstore"], "source.layout" = ["inline"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# rows = { from = "source.rows", doc = "the rows, one value per attribute in order (None: missing)" }
# destination = { from = "output", doc = "bucket key this step writes" }


def objectstore_write_inline(config: dict, rows: list, destination: str) -> None:
    """Write the rows to the bucket as CSV without a header: the object every later
    step reads, as if it had been downloaded. New rows make it again."""
    with s3_producing(config, destination, ["write_inline", rows]) as output:
        if output is not None:
            write_rows_as_csv(rows, output.part)
