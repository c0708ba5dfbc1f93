# [helper]
# name = "spark_session"
# language = "python"
# summary = "One SparkSession per process, built from the program's SPARK settings, and the warehouse files every Spark step reads and writes through Hadoop's FileSystem API (local, HDFS or a mount alike)."
# libraries = ["pyspark"]
# uses = ["markers"]

import atexit
import json
import os
import time
import uuid

from pyspark.sql import SparkSession

# A Spark step's output is a directory under the warehouse (Spark writes part files into
# it); its marker is the file <directory>.done beside it, with the lines of a local
# marker (the step's key first), written after the directory is in place.


def spark_session(config: dict):
    """The process's SparkSession (built once, then reused by every step).

    master, app_name and warehouse_dir come from SPARK: pointing master at a cluster and
    warehouse_dir at HDFS or a shared mount is all it takes to run there. The Hive
    metastore is whatever the Spark installation configures (embedded Derby in the
    working directory when nothing is).
    """
    session = (
        SparkSession.builder.master(config["master"])
        .appName(config["app_name"])
        .config("spark.sql.warehouse.dir", spark_warehouse(config))
        .enableHiveSupport()
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    engine_store("spark", config)
    if not getattr(spark_session, "stops_at_exit", False):
        atexit.register(spark_shutdown, session)
        spark_session.stops_at_exit = True
    return session


def spark_shutdown(session) -> None:
    """Stop the session and wait for its JVM to exit, so that the program ends after it
    (the next program can then open the same embedded metastore at once)."""
    context = session.sparkContext
    gateway = context._gateway
    if context._jsc is None:
        return  # stopped already (with its JVM, by whoever stopped it)
    session.stop()
    process = getattr(gateway, "proc", None)
    if process is not None and process.stdin is not None:
        # The JVM that pyspark started exits when its stdin closes.
        process.stdin.close()
        try:
            process.wait(timeout=60)
        except Exception:
            process.kill()


def spark_warehouse(config: dict) -> str:
    """The warehouse directory: a URI (hdfs://...) as given, a local path made absolute."""
    directory = str(config["warehouse_dir"])
    if "://" in directory or directory.startswith("file:"):
        return directory.rstrip("/")
    return os.path.abspath(directory)


def spark_location(config: dict, relative: str) -> str:
    """The warehouse path of a warehouse-relative name."""
    return spark_warehouse(config) + "/" + relative.strip("/")


def spark_quote(*names: str) -> str:
    """Spark SQL identifiers: each in backticks, backticks in it doubled, joined by dots."""
    return ".".join("`" + str(name).replace("`", "``") + "`" for name in names)


def spark_literal(value: str) -> str:
    """A Spark SQL string literal (backslashes and quotes escaped)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def spark_fs(spark, location: str):
    """(FileSystem, Path) of a location, through Hadoop's API."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(location)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def spark_exists(spark, location: str) -> bool:
    fs, path = spark_fs(spark, location)
    return bool(fs.exists(path))


def spark_delete(spark, location: str) -> None:
    fs, path = spark_fs(spark, location)
    if fs.exists(path):
        fs.delete(path, True)


def spark_rename(spark, source: str, destination: str) -> None:
    """Move source onto destination (a directory rename is one step on every FS)."""
    fs, path = spark_fs(spark, source)
    target = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(destination)
    fs.mkdirs(target.getParent())
    if not fs.rename(path, target):
        raise RuntimeError(f"could not rename {source} to {destination}")


def spark_children(spark, location: str) -> list[str]:
    """Names of the entries of a directory (none when it does not exist)."""
    fs, path = spark_fs(spark, location)
    if not fs.exists(path):
        return []
    return [status.getPath().getName() for status in fs.listStatus(path)]


def spark_read_text(spark, location: str) -> str:
    """The text of a small file, or "" when there is none."""
    fs, path = spark_fs(spark, location)
    if not fs.exists(path):
        return ""
    stream = fs.open(path)
    try:
        jvm = spark.sparkContext._jvm
        return str(jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
    finally:
        stream.close()


def spark_write_text(spark, location: str, text: str) -> None:
    """Write a small file atomically: a temporary name beside it, then a rename."""
    part = f"{location}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part"
    fs, path = spark_fs(spark, part)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()
    spark_delete(spark, location)
    spark_rename(spark, part, location)


def spark_marker(spark, location: str) -> str:
    """The marker text of a warehouse output ("" when it has none: not trusted)."""
    return spark_read_text(spark, location + ".done")


def spark_is_current(spark, location: str, key: str) -> bool:
    """True when the output exists and its marker holds `key` (it is up to date), or,
    in a dry run, when the step has said it would make it (see spark_planned)."""
    current = (
        spark_exists(spark, location)
        and spark_marker(spark, location).split("\n")[0] == key
    )
    if current:
        report_output("fresh")
    return current or spark_planned(spark, location)


def spark_planned(spark, location: str) -> bool:
    """In a dry run: report the output `location`, which the step would make (what it
    reads being fresh), as missing or stale; True then, and the step stops there."""
    task = TASK.get()
    if task is None or not task.dry_run:
        return False
    if spark_exists(spark, location) or spark_marker(spark, location):
        task.found("stale", CHANGED)
    else:
        task.found("missing")
    return True


def spark_put_directory(spark, staged: str, location: str, key: str, inputs) -> None:
    """Replace the output directory `location` by the written directory `staged`,
    then record its marker (key, then the inputs it was made from)."""
    spark_delete(spark, location + ".done")
    spark_delete(spark, location)
    spark_rename(spark, staged, location)
    recorded = "\t".join(inputs) if isinstance(inputs, list) else (inputs or "")
    marker = f"{key}\n{recorded}\n"
    spark_write_text(spark, location + ".done", marker)
    report_output("made", version=digest(marker))


def spark_record_steps(config: dict, rows: list[tuple[str, str, str]]) -> None:
    """Record (task, version, outcome) rows, each as the file
    `<warehouse>/_aorist/steps/<task>.json` (written atomically; the metastore keeps
    no transactions to write them in)."""
    session = spark_session(config)
    when = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for task, version, outcome in rows:
        record = {"finished_at": when, "outcome": outcome, "task": task}
        text = json.dumps({**record, "version": version}, sort_keys=True) + "\n"
        spark_write_text(session, spark_location(config, step_record(task)), text)


def spark_temporary(location: str) -> str:
    """A temporary directory beside `location`, hidden from readers of its parent."""
    parent, _, name = location.rstrip("/").rpartition("/")
    return f"{parent}/_tmp-{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def spark_write_arrow(spark, table, location: str) -> None:
    """Write a pyarrow.Table as one Parquet part file into the new directory `location`
    (written locally, then copied through Hadoop's API, so HDFS works too)."""
    import tempfile

    import pyarrow.parquet

    with tempfile.TemporaryDirectory(prefix="aorist-spark-") as scratch:
        local = os.path.join(scratch, "part-00000.parquet")
        pyarrow.parquet.write_table(table, local)
        fs, path = spark_fs(spark, location)
        fs.mkdirs(path)
        jvm = spark.sparkContext._jvm
        fs.copyFromLocalFile(
            False, True, jvm.org.apache.hadoop.fs.Path("file://" + local), path
        )


def spark_read_arrow(spark, table: list[str]):
    """The rows of a Spark table as a pyarrow.Table, collected to the driver: fine at
    the sizes a model trains on or a function computes (not for the largest tables)."""
    return spark.table(spark_quote(*table)).toArrow()


def spark_error_text(error: Exception) -> str:
    """Spark's message without its JVM stack trace."""
    text = str(error).strip()
    for marker in ("\nJVM stacktrace:", "\n\tat "):
        text = text.split(marker)[0]
    return text.strip()
