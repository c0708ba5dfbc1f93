# [recipe]
# constraint = "TemporaryTableCreated"
# language = "python"
# entry = "objectstore_create_staging"
# summary = "The staged object is read, each value converted exactly to its declared type (or the computed columns checked), into a typed staging table object under _tmp/."
# libraries = ["duckdb", "pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# table = { from = "staging.table", doc = "name parts of the staging table" }
# staged = { from = "staging.file", doc = "bucket key of the staged CSV or Parquet file" }
# staged_format = { from = "staging.format", doc = "csv or parquet" }
# columns = { from = "columns.checked", doc = "column names, DuckDB types and nullability (None: any)" }
# signature = { from = "columns.signature", doc = "declared columns as 'name TYPE, ...', or None" }
# target = { from = "target.file", doc = "bucket key of the published table file" }
# target_format = { from = "target.format", doc = "parquet or orc" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }

import duckdb


def objectstore_create_staging(
    config: dict,
    table: list,
    staged: str,
    staged_format: str,
    columns: list | None,
    signature: str | None,
    target: str,
    target_format: str,
    contracts: list,
) -> None:
    """Write the staged rows, typed, to the staging table object.

    A CSV value that does not convert exactly, or an empty value in a non-nullable
    column, fails naming table, column, line and value; computed Parquet columns must
    be the declared ones. Skipped when the published table was made from this staged
    object already.
    """
    asset = str(table[-1])
    chain, published = s3_table_chain(
        config, staged, columns, target_format, target, contracts
    )
    if published:
        return
    staging_key, _ = s3_temporary_keys(table, target)
    parts = ["objectstore_create_staging", staged_format, columns, signature, chain]
    with s3_local_step(config, staged, staging_key, parts) as step:
        if step is None:
            return
        local, output = step
        output.facts.append(f"chain {chain}")
        literal = "'" + local.replace("'", "''") + "'"
        part = "'" + output.part.replace("'", "''") + "'"
        con = duckdb.connect()
        try:
            if staged_format == "parquet":
                found = con.execute(
                    f"DESCRIBE SELECT * FROM read_parquet({literal})"
                ).fetchall()
                computed = ", ".join(f"{row[0]} {row[1]}" for row in found)
                if signature is not None and computed != signature:
                    raise ValueError(
                        f"{asset}: the computed columns ({computed}) differ from the "
                        f"declared schema ({signature}); fix: make the computation "
                        "return the declared columns in this order and with these "
                        "types (e.g. CAST(x AS DOUBLE) AS x), or declare the schema "
                        "it returns"
                    )
                select = f"SELECT * FROM read_parquet({literal})"
            else:
                text = ", ".join(
                    "'" + name.replace("'", "''") + "': 'VARCHAR'"
                    for name, _, _ in columns
                )
                select = (
                    "WITH staged AS (SELECT row_number() OVER () AS __aorist_line, * "
                    f"FROM read_csv({literal}, header = false, delim = ',', "
                    "quote = '\"', escape = '\"', auto_detect = false, "
                    f"columns = {{{text}}})) SELECT "
                    + s3_checked_select(asset, columns)
                    + " FROM staged"
                )
            con.execute(f"COPY ({select}) TO {part} (FORMAT parquet)").fetchall()
        except duckdb.Error as error:
            raise ValueError(
                str(error).removeprefix("Invalid Input Error: ")
                + f"; the staged file is {staged}; fix: correct the source value, "
                "or declare the type it holds"
            ) from None
        finally:
            con.close()
