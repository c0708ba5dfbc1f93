# [recipe]
# constraint = "StoredInLake"
# language = "python"
# entry = "spark_store_in_lake"
# summary = "The prepared CSV file is copied into the Spark warehouse's staging directory through Hadoop's FileSystem API, under a temporary name then renamed."
# libraries = ["pyspark"]
# uses = ["markers", "spark_session"]
# when = { engine = ["spark"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "local temporary CSV file written by the upstream step" }
# spark = { from = "settings.spark", doc = "the Spark session's settings (master, warehouse_dir, app_name)" }
# destination = { from = "staging.file", doc = "warehouse-relative staging directory to write" }

import os


def spark_store_in_lake(source: str, spark: dict, destination: str) -> None:
    """Copy the local CSV file into <warehouse>/destination/ (one part file).

    Skipped when the directory was made from the same version of the file (its local
    marker joins the step's key); a file that is not plain text distrusts its inputs.
    """
    session = spark_session(spark)
    target = spark_location(spark, destination)
    key = step_key("spark_store_in_lake", marker_text(source))
    if spark_is_current(session, target, key):
        return
    restore([source])
    try:
        check_plain_text(source, "uncompressed CSV")
    except Exception:
        invalidate(source)
        raise
    staged = spark_temporary(target)
    fs, path = spark_fs(session, staged)
    fs.mkdirs(path)
    jvm = session.sparkContext._jvm
    local = jvm.org.apache.hadoop.fs.Path("file://" + os.path.abspath(source))
    part = jvm.org.apache.hadoop.fs.Path(staged + "/part-00000.csv")
    try:
        fs.copyFromLocalFile(False, True, local, part)
        spark_put_directory(session, staged, target, key, source)
    except BaseException:
        spark_delete(session, staged)
        raise
