# [recipe]
# constraint = "TemporaryFilesRemoved"
# language = "python"
# entry = "objectstore_remove_temporary_files"
# summary = "The temporary objects of the table's data (decompressed, header-less, CSV, staged) and their markers are removed from the bucket; the download stays, as the cache a rerun rebuilds them from."
# libraries = ["pyarrow"]
# uses = ["objectstore", "temporaries"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# files = { from = "temporaries", doc = "bucket keys the table's earlier steps wrote, the download excepted" }
# staged = { from = "staging.file", doc = "bucket key of the staged copy" }


def objectstore_remove_temporary_files(config: dict, files: list, staged: str) -> None:
    """Remove each temporary object and the staged one, each with its marker first. A
    missing object is fine: a rerun removes what is left. When
    AORIST_KEEP_TEMPORARY_FILES is set (and not "0"), nothing is removed."""

    def remove(key: str) -> bool:
        if not s3_exists(config, key):
            return False
        s3_delete(config, key)
        return True

    # Each removed object's marker stays as X.removed: a rerun tells an object
    # removed after use, whose table is still fresh, from one never made.
    remove_temporaries(
        [*files, staged],
        remove,
        keep_markers=True,
        read=lambda key: s3_read_text(config, key),
        write=lambda key, text: s3_put_text(config, key, text),
    )
