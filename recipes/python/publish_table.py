# [recipe]
# constraint = "TablePublished"
# language = "python"
# entry = "publish_table"
# summary = "The target file is loaded into a table of the lake's DuckDB database."
# libraries = ["duckdb", "pyarrow"]
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# source = { from = "target.file", doc = "lake-relative path of the Parquet or ORC file" }
# source_format = { from = "target.format", doc = "one of parquet or orc" }
# table = { from = "target.table", doc = "schema and name of the table to create" }

import os

import duckdb
import pyarrow
import pyarrow.orc


def publish_table(
    lake_path: str, source: str, source_format: str, table: list[str]
) -> None:
    """Create table from the rows of lake_path/source unless it already exists."""
    if source_format not in ("parquet", "orc"):
        raise ValueError(
            f"unknown source format {source_format!r}: expected parquet or orc"
        )
    parts = [str(p) for p in table]
    if len(parts) != 2:
        raise ValueError(f"table must be [schema, name], got {table!r}")
    path = os.path.join(lake_path, source)

    def quote(identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    schema = quote(parts[0])
    name = schema + "." + quote(parts[1])
    view = "__aorist_orc_source"
    # Lake files stay readable by the DuckDB 1.5 command-line program (the R
    # dialect's SQL engine): the setting decides the format of a new file.
    con = duckdb.connect(
        os.path.join(lake_path, "lake.duckdb"),
        config={"storage_compatibility_version": "v1.5.0"},
    )
    try:
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() "
            "WHERE lower(schema_name) = lower(?) AND lower(table_name) = lower(?)",
            parts,
        ).fetchall()[0][0]
        if exists:
            return
        if not os.path.exists(path):
            raise FileNotFoundError(path)
        registered = False
        con.begin()
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}").fetchall()
            if source_format == "parquet":
                literal = "'" + path.replace("'", "''") + "'"
                select = f"SELECT * FROM read_parquet({literal})"
            else:
                orc = pyarrow.orc.ORCFile(path)
                batches = (orc.read_stripe(i) for i in range(orc.nstripes))
                reader = pyarrow.RecordBatchReader.from_batches(orc.schema, batches)
                con.register(view, reader)
                registered = True
                select = f"SELECT * FROM {quote(view)}"
            con.execute(f"CREATE TABLE {name} AS {select}").fetchall()
            con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            if registered:
                con.unregister(view)
    finally:
        con.close()
