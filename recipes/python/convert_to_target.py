# [recipe]
# constraint = "ConvertedToTargetEncoding"
# language = "python"
# entry = "convert_to_target"
# summary = "The staged view is written to the lake as a Parquet or ORC file."
# libraries = ["duckdb", "pyarrow"]
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# table = { from = "staging.table", doc = "name parts of the staging view to read" }
# destination = { from = "target.file", doc = "lake-relative path of the file to write" }
# target_format = { from = "target.format", doc = "one of parquet or orc" }

import os

import duckdb
import pyarrow
import pyarrow.orc


def convert_to_target(
    lake_path: str, table: list[str], destination: str, target_format: str
) -> None:
    """Write the rows of the staging view to lake_path/destination."""
    if target_format not in ("parquet", "orc"):
        raise ValueError(
            f"unknown target format {target_format!r}: expected parquet or orc"
        )
    target = os.path.join(lake_path, destination)
    if os.path.exists(target):
        return
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    part = target + ".part"
    name = ".".join('"' + str(p).replace('"', '""') + '"' for p in table)
    query = f"SELECT * FROM {name}"
    # Lake files stay readable by the DuckDB 1.5 command-line program (the R
    # dialect's SQL engine): the setting decides the format of a new file.
    con = duckdb.connect(
        os.path.join(lake_path, "lake.duckdb"),
        config={"storage_compatibility_version": "v1.5.0"},
    )
    try:
        if target_format == "parquet":
            literal = "'" + part.replace("'", "''") + "'"
            con.execute(f"COPY ({query}) TO {literal} (FORMAT parquet)").fetchall()
        else:
            reader = con.sql(query).to_arrow_reader()
            writer = pyarrow.orc.ORCWriter(part, compression="snappy")
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
        os.replace(part, target)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise
    finally:
        con.close()
