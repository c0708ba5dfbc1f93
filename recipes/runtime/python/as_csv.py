# [helper]
# name = "as_csv"
# language = "python"
# summary = "A delimited, JSON-lines, Parquet or ORC source (or a directory of them) is checked and rewritten as header-less comma-separated values in schema column order, read by name where the source names its columns."

import csv
import json
import os
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
    layout: str = "file",
) -> None:
    """Write part, CSV without a header, from the file source (named label in
    errors): a header-less CSV file with the plain dialect is copied as it is.

    With `source_names` (what the source calls each column, in schema order), a
    delimited file's last header line names its columns, and each column is read
    from the field of its name; a JSON object's keys are those names. A directory's
    source is the list of its files (see the download recipe).
    """
    if source_format not in ("csv", "tsv", "jsonl", "parquet", "orc"):
        raise ValueError(
            f"unknown source format {source_format!r}: expected csv, tsv, jsonl, "
            "parquet or orc"
        )
    if source_format not in ("parquet", "orc"):
        check_plain_text(source, f"uncompressed {source_format}")
    if source_names is None and source_format == "csv" and dialect == PLAIN:
        shutil.copyfile(source, part)
        return

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
            yield number, [
                csv_cell(record.get(name)) for name in source_names or columns
            ]

    if source_format in ("parquet", "orc"):
        names = source_names or columns
        files = [(source, label, {})]
        if layout == "directory":
            files = listed_files(source, label)
        with open(part, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            for path, name, partitions in files:
                write_columnar_rows(
                    writer, path, name, source_format, names, partitions
                )
        return
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


def csv_cell(value) -> str:
    """A value as a CSV field every later step reads: None is empty (NULL), a
    Boolean true or false, a list or an object its JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def listed_files(listing: str, label: str):
    """(path, label, partition values) of each file `listing` names (a JSON object:
    the directory, and the path, size and modification time of each file under it),
    where a `key=value` directory of its path gives the column `key` (as Hive
    partitions tables). A file changed since it was listed fails."""
    import urllib.parse

    with open(listing, encoding="utf-8") as handle:
        listed = json.load(handle)
    for relative, size, mtime_ns in listed["files"]:
        path = os.path.join(listed["directory"], relative)
        status = os.stat(path)
        if (status.st_size, status.st_mtime_ns) != (size, mtime_ns):
            raise ValueError(
                f"{path} changed since {label} listed it; fix: run again (the "
                "directory is listed anew)"
            )
        partitions = {}
        for folder in relative.split("/")[:-1]:
            key, equals, value = folder.partition("=")
            if equals:
                value = urllib.parse.unquote(value)
                # Hive writes a missing partition value so.
                missing = value == "__HIVE_DEFAULT_PARTITION__"
                partitions[urllib.parse.unquote(key)] = None if missing else value
        yield path, path, partitions


def write_columnar_rows(
    writer, source: str, label: str, source_format: str, names: list, constants: dict
) -> None:
    """Write with the csv `writer` the columns `names` of the Parquet or ORC file
    source, a batch (or stripe) at a time. A name in `constants` is that value in
    every row (a partition's), not a column of the file."""
    # Only these sources need pyarrow's readers: a CSV program goes without them.
    import pyarrow.orc
    import pyarrow.parquet

    magic = {"parquet": b"PAR1", "orc": b"ORC"}[source_format]
    with open(source, "rb") as handle:
        head = handle.read(4)
    if not head.startswith(magic):
        raise ValueError(
            f"{label} is not a {source_format} file (it starts with {head!r}); fix: "
            "declare the source's real encoding"
        )
    if source_format == "parquet":
        reader = pyarrow.parquet.ParquetFile(source)
        found = reader.schema_arrow.names
    else:
        reader = pyarrow.orc.ORCFile(source)
        found = reader.schema.names

    read = [name for name in names if name not in constants]

    def batches():
        if source_format == "parquet":
            yield from reader.iter_batches(1 << 16, columns=read)
        else:
            for stripe in range(reader.nstripes):
                yield reader.read_stripe(stripe, columns=read)

    missing = [name for name in read if name not in found]
    if missing:
        partitions = f" or its partitions ({', '.join(constants)})" if constants else ""
        raise ValueError(
            f"{label} has no column {missing[0]!r} (it has "
            f"{', '.join(repr(name) for name in found)}{partitions}); fix: check the "
            "schema's attribute names, or map the file's names with source_names"
        )

    for batch in batches():
        columns = {name: batch.column(name).to_pylist() for name in read}
        for name, value in constants.items():
            columns[name] = [value] * batch.num_rows
        values = [columns[name] for name in names]
        writer.writerows([csv_cell(value) for value in row] for row in zip(*values))


def write_rows_as_csv(rows: list, part: str) -> None:
    """Write part, CSV without a header, from rows of values declared in a program
    (None: an empty field, read as NULL)."""
    with open(part, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerows([csv_cell(value) for value in row] for row in rows)
