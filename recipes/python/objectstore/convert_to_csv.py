# [recipe]
# constraint = "ConvertedToCSV"
# language = "python"
# entry = "objectstore_convert_to_csv"
# summary = "The source object is rewritten as header-less comma-separated values in schema column order."
# libraries = ["pyarrow"]
# uses = ["markers", "objectstore", "header_lines", "as_csv"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# source = { from = "input", doc = "bucket key written by the upstream step" }
# destination = { from = "output", doc = "bucket key this step writes" }
# source_format = { from = "source.format", doc = "one of csv, tsv, jsonl, parquet or orc" }
# dialect = { from = "source.dialect", doc = "[delimiter, quote] of a csv or tsv source, None for jsonl" }
# columns = { from = "columns.names", doc = "column names in schema order" }
# header_lines = { from = "source.header_lines", doc = "header lines, read here when the columns are read by name" }
# source_names = { from = "columns.source_names", doc = "what the source calls each column (None: read in schema order)" }
# layout = { from = "source.layout", doc = "file, or directory: the source lists the files of a Hive-partitioned directory" }


def objectstore_convert_to_csv(
    config: dict,
    source: str,
    destination: str,
    source_format: str,
    dialect: list | None,
    columns: list,
    header_lines: int,
    source_names: list | None,
    layout: str = "file",
) -> None:
    """Convert a delimited, JSON-lines, Parquet or ORC object to CSV without a
    header row."""
    parts = ["objectstore_convert_to_csv", source_format, columns]
    # Another dialect than plain CSV's joins the key (a plain one keeps its versions).
    parts += [dialect] if source_format == "csv" and dialect != PLAIN else []
    # So do the names the columns are read by (the header then is read here).
    parts += [header_lines, source_names] if source_names is not None else []
    with s3_local_step(config, source, destination, parts) as step:
        if step is None:
            return
        local, output = step
        write_as_csv(
            local,
            source,
            output.part,
            source_format,
            dialect,
            columns,
            header_lines,
            source_names,
            layout,
        )
