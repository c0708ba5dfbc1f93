# [recipe]
# constraint = "ConvertedToCSV"
# language = "python"
# entry = "convert_to_csv"
# summary = "The source file is rewritten as header-less comma-separated values in schema column order."
# libraries = []
# uses = ["markers"]
# when = { engine = ["lake", "spark", "postgres"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# source_format = { from = "source.format", doc = "one of csv, tsv or jsonl" }
# columns = { from = "columns.names", doc = "column names in schema order" }

import csv
import json
import shutil


def convert_to_csv(
    source: str, destination: str, source_format: str, columns: list[str]
) -> None:
    """Convert a TSV or JSON-lines file to CSV without a header row."""
    if source_format not in ("csv", "tsv", "jsonl"):
        raise ValueError(
            f"unknown source format {source_format!r}: expected csv, tsv or jsonl"
        )

    def cell(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return value
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return str(value)

    parts = ["convert_to_csv", source_format, columns]
    with producing(destination, parts, source) as output:
        if output is None:
            return
        check_plain_text(source, f"uncompressed {source_format}")
        if source_format == "csv":
            shutil.copyfile(source, output.part)
            return
        with (
            open(source, encoding="utf-8-sig", newline="\n") as reader,
            open(output.part, "w", encoding="utf-8", newline="") as out,
        ):
            writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            for number, line in enumerate(reader, start=1):
                line = line.removesuffix("\n").removesuffix("\r")
                if source_format == "tsv":
                    if not line:
                        continue
                    fields = line.split("\t")
                    if len(fields) != len(columns):
                        raise ValueError(
                            f"{source}:{number}: expected {len(columns)} "
                            f"tab-separated fields, found {len(fields)}"
                        )
                    writer.writerow(fields)
                else:
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except ValueError as error:
                        raise ValueError(
                            f"{source}:{number}: not a JSON object: {error}"
                        ) from None
                    if not isinstance(record, dict):
                        raise ValueError(
                            f"{source}:{number}: expected a JSON object, "
                            f"found {type(record).__name__}"
                        )
                    writer.writerow([cell(record.get(name)) for name in columns])
