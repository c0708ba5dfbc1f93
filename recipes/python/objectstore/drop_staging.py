# [recipe]
# constraint = "TemporaryTableDropped"
# language = "python"
# entry = "objectstore_drop_staging"
# summary = "The staging table object and the converted object under _tmp/ are deleted."
# libraries = ["pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# table = { from = "staging.table", doc = "name parts of the staging table" }
# target = { from = "target.file", doc = "bucket key of the table file" }


def objectstore_drop_staging(config: dict, table: list, target: str) -> None:
    """Delete the temporary objects of the table (and their markers)."""
    for key in s3_temporary_keys(table, target):
        s3_delete(config, key + ".done")
        s3_delete(config, key)
