# [recipe]
# constraint = "ConvertedToCSV"
# language = "python"
# entry = "convert_to_csv"
# summary = "The source file is rewritten as header-less comma-separated values in schema column order."
# libraries = []
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# source_format = { from = "source.format", doc = "one of csv, tsv or jsonl" }
# columns = { from = "columns.names", doc = "column names in schema order" }

import csv
import json
import os
import shutil


def convert_to_csv(
    source: str, destination: str, source_format: str, columns: list[str]
) -> None:
    """Convert a TSV or JSON-lines file to CSV without a header row."""
    if source_format not in ("csv", "tsv", "jsonl"):
        raise ValueError(
            f"unknown source format {source_format!r}: expected csv, tsv or jsonl"
        )
    if os.path.exists(destination):
        return
    os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
    part = destination + ".part"

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

    try:
        if source_format == "csv":
            shutil.copyfile(source, part)
        else:
            with (
                open(source, encoding="utf-8-sig", newline="\n") as reader,
                open(part, "w", encoding="utf-8", newline="") as out,
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
                        record = json.loads(line)
                        if not isinstance(record, dict):
                            raise ValueError(
                                f"{source}:{number}: expected a JSON object, "
                                f"found {type(record).__name__}"
                            )
                        writer.writerow([cell(record.get(name)) for name in columns])
        os.replace(part, destination)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise
