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
        fields = header_fields(text, dialect)
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


def header_fields(text: str, dialect: list) -> list[str]:
    """The fields of one line of a delimited file, split by `dialect` ([delimiter,
    quote]; an empty quote: no quoting)."""
    delimiter, quote = dialect
    if not quote:
        return text.split(delimiter)
    return next(csv.reader([text], delimiter=delimiter, quotechar=quote), [])


def header_positions(line: str, source_names: list, dialect: list, label: str):
    """Where each of `source_names` is among the fields of the header line, and
    how many fields it has; a name it lacks fails, naming those it has."""
    header = header_fields(line.removeprefix("\ufeff").rstrip("\r\n"), dialect)
    missing = [name for name in source_names if name not in header]
    if missing:
        raise ValueError(
            f"{label}: the header names no column {missing[0]!r} (it names "
            f"{', '.join(repr(name) for name in header)}); fix: check the "
            "schema's source_names and the encoding's header lines"
        )
    return [header.index(name) for name in source_names], len(header)
