# [recipe]
# constraint = "TablePublished"
# language = "python"
# entry = "objectstore_publish"
# summary = "The converted object is copied by the server onto the table's key in one request, replacing the older version; its marker records the version."
# libraries = ["pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# table = { from = "staging.table", doc = "name parts of the staging table" }
# staged = { from = "staging.file", doc = "bucket key of the staged file" }
# columns = { from = "columns.checked", doc = "column names, DuckDB types and nullability (None: any)" }
# target = { from = "target.file", doc = "bucket key of the table file" }
# target_format = { from = "target.format", doc = "parquet or orc" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }


def objectstore_publish(
    config: dict,
    table: list,
    staged: str,
    columns: list | None,
    target: str,
    target_format: str,
    contracts: list,
) -> None:
    """Make the converted rows the table's, unless it holds them already.

    Readers read the table's one object: one server-side copy replaces it, so they
    see the old rows or the new ones. A rerun after a kill copies the same object
    again: the table holds each row once.
    """
    chain, published = s3_table_chain(
        config, staged, columns, target_format, target, contracts
    )
    if published:
        return
    _, converted = s3_temporary_keys(table, target)
    marker = s3_marker(config, converted).split("\n")
    version = step_key("objectstore_publish", marker[0])
    task = TASK.get()
    if task is not None and task.dry_run:
        s3_predict(config, target, [version, converted, f"chain {chain}"], [converted])
        return
    if f"chain {chain}" not in marker[2:] or not s3_exists(config, converted):
        raise RuntimeError(
            f"{'.'.join(map(str, table))}: the converted table {converted} is missing "
            "or was made from other rows; fix: run the program again from the "
            "ConvertedToTargetEncoding step (it is rerun when this one fails)"
        )
    filesystem, bucket = s3_connect(config)
    s3_delete(config, target + ".done")
    filesystem.copy_file(f"{bucket}/{converted}", f"{bucket}/{s3_key(target)}")
    marker = f"{version}\n{converted}\nchain {chain}\n"
    s3_put_text(config, target + ".done", marker)
    report_published(digest(marker))
