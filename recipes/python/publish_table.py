# [recipe]
# constraint = "TablePublished"
# language = "python"
# entry = "publish_table"
# summary = "The target file is loaded into a table of the lake's DuckDB database, replacing an older version in one transaction."
# libraries = ["duckdb", "pyarrow"]
# uses = ["markers", "lake_lock"]
# when = { engine = ["lake"] }
#
# [recipe.parameters]
# lake_path = { from = "settings.lake_path", doc = "lake directory holding lake.duckdb" }
# source = { from = "target.file", doc = "lake-relative path of the Parquet or ORC file" }
# source_format = { from = "target.format", doc = "one of parquet or orc" }
# table = { from = "target.table", doc = "schema and name of the table to create" }
# staging = { from = "staging.table", doc = "staging view, dropped if publishing fails" }

import os

import duckdb
import pyarrow
import pyarrow.orc


def publish_table(
    lake_path: str,
    source: str,
    source_format: str,
    table: list[str],
    staging: list[str],
) -> None:
    """Publish the rows of lake_path/source as table, unless it holds them already.

    `_aorist.published` records, per table, the marker of the file it was loaded
    from: a table made from an older file is replaced, in the same transaction that
    updates the record, so readers see the old rows or the new, never a mix.
    """
    if source_format not in ("parquet", "orc"):
        raise ValueError(
            f"unknown source format {source_format!r}: expected parquet or orc"
        )
    parts = [str(p) for p in table]
    if len(parts) != 2:
        raise ValueError(f"table must be [schema, name], got {table!r}")
    path = os.path.join(lake_path, source)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    version = step_key("publish_table", source_format, marker_text(path))

    def quote(identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    schema = quote(parts[0])
    name = schema + "." + quote(parts[1])
    view = "__aorist_orc_source"
    with lake_lock(lake_path):
        # Lake files stay readable by the DuckDB 1.5 command-line program (the R
        # dialect's SQL engine): the setting decides the format of a new file.
        con = duckdb.connect(
            os.path.join(lake_path, "lake.duckdb"),
            config={"storage_compatibility_version": "v1.5.0"},
        )
        try:
            con.execute(
                "CREATE SCHEMA IF NOT EXISTS _aorist;"
                "CREATE TABLE IF NOT EXISTS _aorist.published (table_schema VARCHAR,"
                " table_name VARCHAR, version VARCHAR, PRIMARY KEY (table_schema, table_name))"
            ).fetchall()
            current = con.execute(
                "SELECT count(*) FROM duckdb_tables() t JOIN _aorist.published p"
                " ON lower(t.schema_name) = lower(p.table_schema)"
                " AND lower(t.table_name) = lower(p.table_name)"
                " WHERE lower(p.table_schema) = lower(?) AND lower(p.table_name) = lower(?)"
                " AND p.version = ?",
                [*parts, version],
            ).fetchall()[0][0]
            if current:
                return
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
                con.execute(f"CREATE OR REPLACE TABLE {name} AS {select}").fetchall()
                con.execute(
                    "INSERT OR REPLACE INTO _aorist.published VALUES (?, ?, ?)",
                    [*parts, version],
                ).fetchall()
                con.commit()
            except BaseException:
                con.rollback()
                # A failed step leaves no staging view behind.
                view_name = ".".join(quote(str(p)) for p in staging)
                con.execute(f"DROP VIEW IF EXISTS {view_name}").fetchall()
                raise
            finally:
                if registered:
                    con.unregister(view)
        finally:
            con.close()
