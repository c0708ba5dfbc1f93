# [recipe]
# constraint = "ConvertedToTargetEncoding"
# language = "python"
# entry = "convert_to_target"
# summary = "The staged view is written to the lake as a Parquet or ORC file; a value that breaks the schema or a contract fails the step and publishes nothing."
# libraries = ["duckdb", "pyarrow"]
# uses = ["markers", "lake_lock", "contracts_in_files"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# table = { from = "staging.table", doc = "name parts of the staging view to read" }
# destination = { from = "target.file", doc = "lake-relative path of the file to write" }
# target_format = { from = "target.format", doc = "one of parquet or orc" }
# staged = { from = "staging.file", doc = "lake-relative path of the staged file the view reads" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }

import csv
import os

import duckdb
import pyarrow
import pyarrow.orc


def convert_to_target(
    lake_path: str,
    table: list[str],
    destination: str,
    target_format: str,
    staged: str,
    contracts: list,
) -> None:
    """Write the rows of the staging view to lake_path/destination.

    The view converts every value exactly to its declared type; the first that does
    not convert fails this step (the staging view is dropped, the staged file and
    the files it was made from are distrusted, so a fixed source is read again). So
    does a row that breaks a contract, checked on the new file before it replaces
    the old one: the table keeps its previous version.
    """
    if target_format not in ("parquet", "orc"):
        raise ValueError(
            f"unknown target format {target_format!r}: expected parquet or orc"
        )
    target = os.path.join(lake_path, destination)
    source = os.path.join(lake_path, staged)
    name = ".".join('"' + str(p).replace('"', '""') + '"' for p in table)
    query = f"SELECT * FROM {name}"

    def explain(error: Exception, columns: list[str]) -> Exception:
        """The engine's error, headed by what the step was reading and how to fix it."""
        text = str(error)
        if "error()" in text or ": column " in text:
            return ValueError(text.removeprefix("Invalid Input Error: "))
        with open(source, "rb") as handle:
            first = handle.readline(200)
        fields = len(next(csv.reader([first.decode("utf-8", "replace")]), []))
        return ValueError(
            f"could not read the staged file {source} as header-less CSV with "
            f"{len(columns)} columns ({', '.join(columns)}): its first line is "
            f"{first!r}, {fields} comma-separated field(s); fix: check the source's "
            "declared encoding (CSV or TSV, header lines, compression) and its "
            f"schema\n{text}"
        )

    # A contract joins the key: a new one checks rows already converted.
    parts = [
        "convert_to_target",
        target_format,
        query,
        *([contracts] if contracts else []),
    ]
    with producing(target, parts, source) as out:
        if out is None:
            return
        with lake_lock(lake_path):
            # Lake files stay readable by the DuckDB 1.5 command-line program (the R
            # dialect's SQL engine): the setting decides the format of a new file.
            con = duckdb.connect(
                os.path.join(lake_path, "lake.duckdb"),
                config={"storage_compatibility_version": "v1.5.0"},
            )
            try:
                if target_format == "parquet":
                    literal = "'" + out.part.replace("'", "''") + "'"
                    con.execute(
                        f"COPY ({query}) TO {literal} (FORMAT parquet)"
                    ).fetchall()
                else:
                    reader = con.sql(query).to_arrow_reader()
                    # Stripes of about 2 MB: readers (publishing loads the table) hold one
                    # stripe at a time, so memory stays flat however many rows there are.
                    writer = pyarrow.orc.ORCWriter(
                        out.part, compression="snappy", stripe_size=2 << 20
                    )
                    try:
                        empty = True
                        for batch in reader:
                            writer.write(pyarrow.Table.from_batches([batch]))
                            empty = False
                        if empty:
                            writer.write(reader.schema.empty_table())
                    finally:
                        writer.close()
                        reader.close()
                check_contracts_in_file(out.part, target_format, table[-1], contracts)
            except ValueError:
                # A failed step leaves no staging view behind.
                con.execute(f"DROP VIEW IF EXISTS {name}").fetchall()
                raise
            except duckdb.Error as error:
                columns = [c[0] for c in con.execute(f"{query} LIMIT 0").description]
                # A failed step leaves no staging view behind.
                con.execute(f"DROP VIEW IF EXISTS {name}").fetchall()
                raise explain(error, columns) from None
            finally:
                con.close()
