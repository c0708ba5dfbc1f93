# [recipe]
# constraint = "ConvertedToCSV"
# language = "python"
# entry = "convert_to_csv"
# summary = "The source file is rewritten as header-less comma-separated values in schema column order."
# libraries = []
# uses = ["markers", "header_lines", "as_csv"]
# when = { engine = ["lake", "spark", "postgres"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# source_format = { from = "source.format", doc = "one of csv, tsv, jsonl, parquet or orc" }
# dialect = { from = "source.dialect", doc = "[delimiter, quote] of a csv or tsv source, None for jsonl" }
# columns = { from = "columns.names", doc = "column names in schema order" }
# header_lines = { from = "source.header_lines", doc = "header lines, read here when the columns are read by name" }
# source_names = { from = "columns.source_names", doc = "what the source calls each column (None: read in schema order)" }
# layout = { from = "source.layout", doc = "file, or directory: the source lists the files of a Hive-partitioned directory" }


def convert_to_csv(
    source: str,
    destination: str,
    source_format: str,
    dialect: list | None,
    columns: list[str],
    header_lines: int,
    source_names: list | None,
    layout: str = "file",
) -> None:
    """Convert a delimited, JSON-lines, Parquet or ORC file to CSV without a
    header row."""
    parts = ["convert_to_csv", source_format, columns]
    # Another dialect than plain CSV's joins the key (a plain one keeps its versions).
    parts += [dialect] if source_format == "csv" and dialect != PLAIN else []
    # So do the names the columns are read by (the header then is read here).
    parts += [header_lines, source_names] if source_names is not None else []
    with producing(destination, parts, source) as output:
        if output is None:
            return
        write_as_csv(
            source,
            source,
            output.part,
            source_format,
            dialect,
            columns,
            header_lines,
            source_names,
            layout,
        )
