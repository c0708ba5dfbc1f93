# [recipe]
# constraint = "TemporaryTableDropped"
# covers = ["Decompressed", "HeaderRemoved", "ConvertedToCSV", "StoredInLake", "TemporaryTableCreated", "ConvertedToTargetEncoding", "TablePublished"]
# cost = 1
# step = "source_loaded"
# language = "python"
# entry = "load_source"
# summary = "DuckDB reads the downloaded file in one streaming pass (gzip, header lines and tabs included), converts each value exactly to its declared type, writes the Parquet or ORC file and publishes the table."
# libraries = ["duckdb", "pyarrow"]
# uses = ["markers", "header_lines", "checked_columns", "progress", "lake_publish", "contracts_in_files"]
# when = { engine = ["lake"], "source.codec" = ["none", "gzip"], "source.format" = ["csv", "tsv"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# source = { from = "input", doc = "the downloaded file" }
# compression = { from = "source.codec", doc = "none or gzip" }
# source_format = { from = "source.format", doc = "csv or tsv" }
# dialect = { from = "source.dialect", doc = "[delimiter, quote] of the source ('' quote: none)" }
# header_lines = { from = "source.header_lines", doc = "leading lines to skip" }
# columns = { from = "columns.checked", doc = "column names, DuckDB types and nullability, in file order" }
# destination = { from = "target.file", doc = "lake-relative path of the file to write" }
# target_format = { from = "target.format", doc = "one of parquet or orc" }
# table = { from = "target.table", doc = "schema and name of the table to publish" }
# staging = { from = "staging.table", doc = "the staging view the separate steps would use, dropped if left" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }
# source_names = { from = "columns.source_names", doc = "what the source's header calls each column (None: read in schema order)" }

import gzip
import os
import re
import threading
import zlib

import duckdb
import pyarrow
import pyarrow.orc


def load_source(
    lake_path: str,
    source: str,
    compression: str,
    source_format: str,
    dialect: list,
    header_lines: int,
    columns: list[list],
    destination: str,
    target_format: str,
    table: list[str],
    staging: list[str],
    contracts: list,
    source_names: list | None,
) -> None:
    """Make lake_path/destination from the downloaded source in one pass, and publish it.

    The same rows, types and failures as the separate steps (decompress, drop the
    header, convert to CSV, stage, convert, publish), without their intermediate
    files: DuckDB reads the file where it is, on every core, without holding the
    lake's lock. A rerun with the same download and declaration skips the pass.
    """
    if compression not in ("none", "gzip") or source_format not in ("csv", "tsv"):
        raise ValueError(
            f"load_source reads csv or tsv, uncompressed or gzip; got "
            f"{source_format!r} with {compression!r}"
        )
    if target_format not in ("parquet", "orc"):
        raise ValueError(
            f"unknown target format {target_format!r}: expected parquet or orc"
        )
    label = ".".join(str(part) for part in table)
    target = os.path.join(lake_path, destination)

    def literal(value: object) -> str:
        return "'" + str(value).replace("'", "''") + "'"

    def read(with_lines: bool) -> str:
        """The query converting the source; with source line numbers for errors (a
        window over the whole file: only to explain a failure)."""
        path, codec = reading
        text = ", ".join(f"{literal(name)}: 'VARCHAR'" for name in read_as)
        delimiter, quote = dialect
        scan = (
            f"read_csv({literal(path)}, header = false, skip = {int(header_lines)},"
            f" delim = {literal(delimiter)}, quote = {literal(quote)},"
            f" escape = {literal(quote)}, auto_detect = false,"
            f" compression = {literal(codec)}, columns = {{{text}}})"
        )
        line = "', line ' || __aorist_line || ': '" if with_lines else "': '"
        selects = ",\n    ".join(
            checked_column(
                name,
                kind,
                nullable,
                f"{literal(label)} || ': column ' || "
                f"{literal(chr(34) + name.replace(chr(34), chr(34) * 2) + chr(34))}"
                f" || {line}",
            )
            for name, kind, nullable in columns
        )
        if with_lines:
            scan = (
                f"(SELECT {int(header_lines)} + row_number() OVER () AS __aorist_line,"
                f" * FROM {scan})"
            )
        return f"SELECT {selects} FROM {scan}"

    def named_fields(line: bytes) -> list[str]:
        """The fields of the header line `line`, each a column's name where the
        source's name for it is there; the others renamed not to meet any."""
        text = line.decode("utf-8", "replace")
        picked, width = header_positions(text, source_names, dialect, source)
        named = dict(zip(picked, (name for name, _, _ in columns)))
        return [named.get(i, f"__aorist_field_{i}") for i in range(width)]

    def explain(con, error: Exception) -> Exception:
        """The engine's error with the source line of the failing value."""
        text = str(error)
        if "error()" in text or ": column " in text:
            try:
                # Every column is converted (a count would skip them), nothing kept.
                con.execute(
                    f"COPY ({read(True)}) TO {literal(os.devnull)} (FORMAT csv)"
                ).fetchall()
            except duckdb.Error as located:
                text = str(located)
            return ValueError(text.removeprefix("Invalid Input Error: "))
        if "invalid state" in text and source_format == "csv":
            return ValueError(
                f"could not parse {source} as CSV: a quote that never closes, or "
                "lines ending in both CRLF and LF (DuckDB reads one kind per file); "
                "fix: check the source, or read it without fusing (fuse=False)"
                f"\n{text}"
            )
        fields = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
        line = re.search(r"CSV Error on Line: (\d+)", text)
        if fields and line:
            kind = {"\t": "tab", ",": "comma"}.get(dialect[0], repr(dialect[0]))
            return ValueError(
                f"{source}:{line.group(1)}: expected {fields.group(1)} "
                f"{kind}-separated fields, found {fields.group(2)}; fix: check the "
                "source's declared encoding and its schema"
            )
        what = "uncompressed" if compression == "none" else compression
        return ValueError(
            f"could not read {source} as {what} {source_format} with "
            f"{header_lines} header line(s) and {len(columns)} columns "
            f"({', '.join(c[0] for c in columns)}); fix: check the source's declared "
            f"encoding (CSV or TSV, header lines, compression) and its schema\n{text}"
        )

    class StreamCheck(threading.Thread):
        """Inflates the gzip source to prove it whole, CRC included, beside DuckDB's
        read (which checks neither); zlib lets go of the GIL while it works."""

        def __init__(self) -> None:
            super().__init__(daemon=True)
            self.error: Exception | None = None

        def run(self) -> None:
            try:
                with open(source, "rb") as raw:
                    inflate = zlib.decompressobj(wbits=31)
                    for chunk in iter(lambda: raw.read(1 << 20), b""):
                        while chunk:
                            if inflate.eof:
                                # Concatenated members are valid gzip: the next one.
                                inflate = zlib.decompressobj(wbits=31)
                            inflate.decompress(chunk)
                            chunk = inflate.unused_data if inflate.eof else b""
                if not inflate.eof:
                    raise zlib.error("the stream ends early")
            except (OSError, zlib.error) as error:
                self.error = ValueError(
                    f"{source} is truncated or corrupt as gzip ({error}); fix: check "
                    "the source (the next run downloads it again)"
                )

        def verdict(self) -> None:
            self.join()
            if self.error is not None:
                raise self.error

    def has_data(opener) -> bool:
        """Whether the file being read has a non-blank line after its header."""
        with opener(reading[0], "rb") as reader:
            for number, line in enumerate(reader):
                if number >= int(header_lines) and line.strip():
                    return True
        return False

    class MixedLineEndings(Exception):
        """DuckDB reads one line ending per file."""

    def convert(part: str, progress: Progress) -> int:
        """Write part from the file being read; the number of rows."""
        # A bound on DuckDB's buffers keeps memory flat however large the source:
        # without it, ordered writing holds more the more rows pass.
        con = duckdb.connect(config={"memory_limit": "256MB"})
        try:
            if target_format == "parquet":
                result: dict = {}

                def copy() -> None:
                    try:
                        result["rows"] = con.execute(
                            f"COPY ({read(False)}) TO {literal(part)}"
                            " (FORMAT parquet)"
                        ).fetchall()[0][0]
                    except BaseException as error:  # reported by the caller
                        result["error"] = error

                worker = threading.Thread(target=copy, daemon=True)
                worker.start()
                while worker.is_alive():
                    worker.join(1.0)
                    done = con.query_progress() if worker.is_alive() else -1
                    if done >= 0:
                        progress.set(size * done / 100)
                if "error" in result:
                    raise result["error"]
                rows = result["rows"]
            else:
                rows = 0
                progress = Progress(f"load {label}", "rows")
                reader = con.sql(read(False)).to_arrow_reader()
                # Stripes of about 2 MB: readers (publishing loads the table) hold one
                # stripe at a time, so memory stays flat however many rows there are.
                writer = pyarrow.orc.ORCWriter(
                    part, compression="snappy", stripe_size=2 << 20
                )
                try:
                    for batch in reader:
                        writer.write(pyarrow.Table.from_batches([batch]))
                        rows += batch.num_rows
                        progress.set(rows)
                    if not rows:
                        writer.write(reader.schema.empty_table())
                finally:
                    writer.close()
                    reader.close()
        except duckdb.Error as error:
            mixed = "invalid state" in str(error) and source_format == "tsv"
            if mixed and reading[0] == source:
                raise MixedLineEndings from None
            raise explain(con, error) from None
        finally:
            con.close()
        return rows

    def load(part: str, progress: Progress) -> int:
        """Write part from the source (its line endings rewritten if DuckDB needs
        that); the number of rows."""
        nonlocal reading
        try:
            rows = convert(part, progress)
            if rows == 0 and has_data(opener):
                # DuckDB reads no rows at all from some files whose lines end
                # in both CRLF and LF: never publish that as an empty table.
                if source_format == "csv":
                    raise ValueError(
                        f"DuckDB read no rows from {source}, which has data after "
                        f"its {header_lines} header line(s): do its lines end in "
                        "both CRLF and LF? fix: check the source, or read it "
                        "without fusing (fuse=False)"
                    )
                raise MixedLineEndings
        except MixedLineEndings:
            # DuckDB reads one line ending per file; a TSV has no quoting, so its
            # lines can be cut at LF and a CR before it dropped, as the separate
            # steps do, in one more pass.
            print(
                f"load {label}: lines end in both CRLF and LF; rewriting them "
                "with LF first\n",
                end="",
                flush=True,
            )
            lines = f"{source}.lines"
            remove_abandoned_parts(lines)
            normalized = unique_part(lines)
            try:
                with opener(source, "rb") as reader, open(normalized, "wb") as lf:
                    for line in reader:
                        lf.write(line.removesuffix(b"\n").removesuffix(b"\r"))
                        lf.write(b"\n")
                reading = (normalized, "none")
                rows = convert(part, progress)
                if rows == 0 and has_data(open):
                    raise ValueError(
                        f"DuckDB read no rows from {source}, which has data "
                        f"after its {header_lines} header line(s); fix: check "
                        "the source, or read it without fusing (fuse=False)"
                    )
            finally:
                os.remove(normalized)
        return rows

    parts = ["load_source", compression, source_format, header_lines, columns]
    # A contract joins the key: a new one checks rows already loaded. So does
    # another dialect than plain CSV's (a plain one keeps its versions).
    parts += [target_format, *([contracts] if contracts else [])]
    parts += [dialect] if source_format == "csv" and dialect != [",", '"'] else []
    parts += [source_names] if source_names is not None else []
    # The source's fields as DuckDB reads them: the columns, in schema order unless
    # the header names them (then each other field is read under a name of its own).
    read_as = [name for name, _, _ in columns]
    with producing(target, parts, source) as out:
        if out is not None:
            opener = gzip.open if compression == "gzip" else open
            dropped = []
            try:
                with opener(source, "rb") as head:
                    dropped = [head.readline() for _ in range(int(header_lines))]
            except OSError as error:
                raise ValueError(
                    f"{source} is not a whole {compression} file ({error}); fix: "
                    "check the source, or declare its real compression"
                ) from None
            if compression == "none":
                check_plain_text(source, f"uncompressed {source_format}")
            if source_names is None:
                warn_if_data(
                    [line for line in dropped if line],
                    source,
                    header_lines,
                    dialect,
                    [[name, kind] for name, kind, _ in columns],
                )
            else:
                read_as = named_fields(dropped[-1] if dropped else b"")
            size = os.path.getsize(source)
            progress = Progress(f"load {label}", "bytes", size)
            reading = (source, compression)
            check = StreamCheck() if compression == "gzip" else None
            if check is not None:
                check.start()
            try:
                rows = load(out.part, progress)
            except Exception:
                # A broken stream explains whatever DuckDB made of it.
                if check is not None:
                    check.verdict()
                raise
            if check is not None:
                check.verdict()
            progress.finish(f"{rows:,} rows")
            check_contracts_in_file(out.part, target_format, label, contracts)
    publish_lake_table(lake_path, destination, target_format, table, staging)
