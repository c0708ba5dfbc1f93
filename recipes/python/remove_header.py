# [recipe]
# constraint = "HeaderRemoved"
# language = "python"
# entry = "remove_header"
# summary = "The leading header lines of the source file are dropped."
# libraries = []
# uses = ["markers"]
# when = { engine = ["lake", "spark", "postgres"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# num_lines = { from = "source.header_lines", doc = "number of leading lines to drop" }
# source_format = { from = "source.format", doc = "csv or tsv: how a dropped line splits into fields" }
# columns = { from = "columns.duckdb", doc = "column names and DuckDB types, to spot data in the header" }

import csv
import re
import shutil
import sys


def remove_header(
    source: str,
    destination: str,
    num_lines: int,
    source_format: str,
    columns: list[list[str]],
) -> None:
    """Copy source to destination without its first num_lines lines.

    A dropped line that reads as a row of the schema (every typed field converts) is
    probably data: that is reported, since the file may have no header at all.
    """
    if isinstance(num_lines, bool) or not isinstance(num_lines, int) or num_lines < 0:
        raise ValueError(f"num_lines must be a non-negative integer, got {num_lines!r}")
    patterns = {
        "BIGINT": r"\s*[+-]?[0-9]+\s*",
        "DOUBLE": r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*",
        "BOOLEAN": r"\s*(?i:true|false|t|f|yes|no|y|n|1|0)\s*",
    }

    def looks_like_data(line: bytes) -> bool:
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if source_format == "tsv":
            fields = text.split("\t")
        else:
            fields = next(csv.reader([text]), [])
        typed = [
            (f, patterns[t]) for f, (_, t) in zip(fields, columns) if t in patterns
        ]
        return (
            len(fields) == len(columns)
            and bool(typed)
            and all(re.fullmatch(p, f) for f, p in typed)
        )

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
        data = [line for line in dropped if looks_like_data(line)]
        if data:
            print(
                f"warning: {source}: {len(data)} of the {num_lines} header line(s) "
                f"removed read as data rows, e.g. {data[0][:200]!r}; fix: if the "
                "source has no header, declare header=None (or fewer header lines)",
                file=sys.stderr,
                flush=True,
            )
