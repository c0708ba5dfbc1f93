# [helper]
# name = "as_csv"
# language = "python"
# summary = "A delimited or JSON-lines source is rewritten as header-less comma-separated values, one row per record, in schema column order (read by header name when the schema renames columns)."

import csv
import json
import shutil

# What DuckDB and every later step read: comma-separated, quoted with '"' if need be.
PLAIN = [",", '"']


def write_as_csv(
    source: str,
    label: str,
    part: str,
    source_format: str,
    dialect: list | None,
    columns: list,
    header_lines: int = 0,
    source_names: list | None = None,
) -> None:
    """Write part, CSV without a header, from the file source (named label in
    errors): a header-less CSV file with the plain dialect is copied as it is.

    With `source_names` (what the source calls each column, in schema order), a
    delimited file's last header line names its columns, and each column is read
    from the field of its name; a JSON object's keys are those names.
    """
    if source_format not in ("csv", "tsv", "jsonl"):
        raise ValueError(
            f"unknown source format {source_format!r}: expected csv, tsv or jsonl"
        )
    if source_names is None and source_format == "csv" and dialect == PLAIN:
        shutil.copyfile(source, part)
        return

    def cell(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return str(value)

    def positions(reader) -> tuple[list | None, int]:
        """Where each column is in the source's rows, from its header (None: in
        schema order), and how many fields a row has: the header lines are read."""
        if source_names is None or source_format == "jsonl":
            return None, len(columns)
        lines = [reader.readline() for _ in range(int(header_lines))]
        return header_positions(lines[-1], source_names, dialect, label)

    def rows(reader):
        """(line number, fields) of each non-blank record of the source."""
        if source_format == "csv":
            delimiter, quote = dialect
            records = csv.reader(
                reader,
                delimiter=delimiter,
                quotechar=quote or None,
                quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
                doublequote=True,
                strict=True,
            )
            try:
                for fields in records:
                    if fields:
                        yield records.line_num, fields
            except csv.Error as error:
                raise ValueError(
                    f"{label}:{records.line_num}: not {delimiter!r}-separated values "
                    f"quoted with {quote!r}: {error}; fix: check the source's declared "
                    "delimiter and quote"
                ) from None
            return
        for number, line in enumerate(reader, start=1):
            line = line.removesuffix("\n").removesuffix("\r")
            if source_format == "tsv":
                if line:
                    yield number, line.split("\t")
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise ValueError(
                    f"{label}:{number}: not a JSON object: {error}"
                ) from None
            if not isinstance(record, dict):
                raise ValueError(
                    f"{label}:{number}: expected a JSON object, "
                    f"found {type(record).__name__}"
                )
            yield number, [cell(record.get(name)) for name in source_names or columns]

    kind = {"tsv": "tab-separated", "csv": f"{(dialect or PLAIN)[0]!r}-separated"}
    newline = "" if source_format == "csv" else "\n"
    with (
        open(source, encoding="utf-8-sig", newline=newline) as reader,
        open(part, "w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        picked, width = positions(reader)
        skipped = int(header_lines) if picked is not None else 0
        for number, fields in rows(reader):
            if len(fields) != width:
                raise ValueError(
                    f"{label}:{number + skipped}: expected {width} "
                    f"{kind[source_format]} fields, found {len(fields)}"
                )
            writer.writerow(fields if picked is None else [fields[i] for i in picked])
