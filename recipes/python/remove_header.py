# [recipe]
# constraint = "HeaderRemoved"
# language = "python"
# entry = "remove_header"
# summary = "The leading header lines of the source file are dropped."
# libraries = []
# uses = ["markers", "header_lines"]
# when = { engine = ["lake", "spark", "postgres"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# num_lines = { from = "source.header_lines", doc = "number of leading lines to drop" }
# source_format = { from = "source.format", doc = "csv or tsv" }
# dialect = { from = "source.dialect", doc = "[delimiter, quote]: how a dropped line splits into fields" }
# columns = { from = "columns.duckdb", doc = "column names and DuckDB types, to spot data in the header" }

import shutil


def remove_header(
    source: str,
    destination: str,
    num_lines: int,
    source_format: str,
    dialect: list,
    columns: list[list[str]],
) -> None:
    """Copy source to destination without its first num_lines lines.

    A dropped line that reads as a row of the schema (every typed field converts) is
    probably data: that is reported, since the file may have no header at all.
    """
    if isinstance(num_lines, bool) or not isinstance(num_lines, int) or num_lines < 0:
        raise ValueError(f"num_lines must be a non-negative integer, got {num_lines!r}")
    with producing(destination, ["remove_header", num_lines], source) as output:
        if output is None:
            return
        check_plain_text(source, f"uncompressed {source_format}")
        dropped = []
        with open(source, "rb") as reader, open(output.part, "wb") as out:
            for _ in range(num_lines):
                line = reader.readline()
                if not line:
                    break
                dropped.append(line)
            shutil.copyfileobj(reader, out, 1 << 20)
        warn_if_data(dropped, source, num_lines, dialect, columns)
