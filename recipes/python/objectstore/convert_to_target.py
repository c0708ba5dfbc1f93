# [recipe]
# constraint = "ConvertedToTargetEncoding"
# language = "python"
# entry = "objectstore_convert"
# summary = "The typed staging table, its contracts checked, is written as a Parquet or ORC object under _tmp/, ready to be published."
# libraries = ["pyarrow"]
# uses = ["markers", "objectstore", "contracts_in_files"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# table = { from = "staging.table", doc = "name parts of the staging table" }
# staged = { from = "staging.file", doc = "bucket key of the staged file" }
# columns = { from = "columns.checked", doc = "column names, DuckDB types and nullability (None: any)" }
# target = { from = "target.file", doc = "bucket key of the published table file" }
# target_format = { from = "target.format", doc = "parquet or orc" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }

import pyarrow.orc
import pyarrow.parquet


def objectstore_convert(
    config: dict,
    table: list,
    staged: str,
    columns: list | None,
    target: str,
    target_format: str,
    contracts: list,
) -> None:
    """Write the staging table's rows in the target format under _tmp/converted/."""
    if target_format not in ("parquet", "orc"):
        raise ValueError(
            f"unknown target format {target_format!r}: expected parquet or orc"
        )
    chain, published = s3_table_chain(
        config, staged, columns, target_format, target, contracts
    )
    if published:
        return
    staging_key, converted = s3_temporary_keys(table, target)
    parts = ["objectstore_convert", target_format, chain]
    with s3_local_step(config, staging_key, converted, parts) as step:
        if step is None:
            return
        local, output = step
        output.facts.append(f"chain {chain}")
        # A broken contract publishes nothing: the table keeps its object.
        check_contracts_in_file(local, "parquet", str(table[-1]), contracts)
        rows = pyarrow.parquet.read_table(local)
        if target_format == "parquet":
            pyarrow.parquet.write_table(rows, output.part)
        else:
            pyarrow.orc.write_table(rows, output.part, compression="snappy")
