# [helper]
# name = "header_lines"
# language = "python"
# summary = "Header lines dropped from a source are checked: one that reads as a row of the schema is reported, since the file may have no header at all."

import csv
import re
import sys


def warn_if_data(
    dropped: list[bytes],
    source: str,
    num_lines: int,
    dialect: list,
    columns: list[list[str]],
) -> None:
    """Warn when a dropped line, split by `dialect` ([delimiter, quote]), reads as
    a row of the schema (every typed field converts): the source may have no header,
    or fewer header lines."""
    patterns = {
        "BIGINT": r"\s*[+-]?[0-9]+\s*",
        "DOUBLE": r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*",
        "BOOLEAN": r"\s*(?i:true|false|t|f|yes|no|y|n|1|0)\s*",
    }

    def looks_like_data(line: bytes) -> bool:
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        delimiter, quote = dialect
        if quote:
            fields = next(csv.reader([text], delimiter=delimiter, quotechar=quote), [])
        else:
            fields = text.split(delimiter)
        typed = [
            (f, patterns[t]) for f, (_, t) in zip(fields, columns) if t in patterns
        ]
        return (
            len(fields) == len(columns)
            and bool(typed)
            and all(re.fullmatch(p, f) for f, p in typed)
        )

    data = [line for line in dropped if looks_like_data(line)]
    if data:
        print(
            f"warning: {source}: {len(data)} of the {num_lines} header line(s) "
            f"removed read as data rows, e.g. {data[0][:200]!r}; fix: if the "
            "source has no header, declare header=None (or fewer header lines)\n",
            file=sys.stderr,
            end="",
            flush=True,
        )
