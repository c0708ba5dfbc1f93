# [recipe]
# constraint = "ConvertedToCSV"
# language = "python"
# entry = "objectstore_convert_to_csv"
# summary = "The source object is rewritten as header-less comma-separated values in schema column order."
# libraries = ["pyarrow"]
# uses = ["markers", "objectstore"]
# when = { engine = ["objectstore"] }
#
# [recipe.parameters]
# config = { from = "settings.objectstore", doc = "endpoint, bucket and the names of the key variables" }
# source = { from = "input", doc = "bucket key written by the upstream step" }
# destination = { from = "output", doc = "bucket key this step writes" }
# source_format = { from = "source.format", doc = "one of csv, tsv or jsonl" }
# columns = { from = "columns.names", doc = "column names in schema order" }

import csv
import json
import shutil


def objectstore_convert_to_csv(
    config: dict, source: str, destination: str, source_format: str, columns: list
) -> None:
    """Convert a TSV or JSON-lines object to CSV without a header row."""
    if source_format not in ("csv", "tsv", "jsonl"):
        raise ValueError(
            f"unknown source format {source_format!r}: expected csv, tsv or jsonl"
        )

    def cell(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return str(value)

    parts = ["objectstore_convert_to_csv", source_format, columns]
    with s3_local_step(config, source, destination, parts) as step:
        if step is None:
            return
        local, output = step
        check_plain_text(local, f"uncompressed {source_format}")
        if source_format == "csv":
            shutil.copyfile(local, output.part)
            return
        with (
            open(local, encoding="utf-8-sig", newline="\n") as reader,
            open(output.part, "w", encoding="utf-8", newline="") as out,
        ):
            writer = csv.writer(out, lineterminator="\n")
            for number, line in enumerate(reader, start=1):
                line = line.removesuffix("\n").removesuffix("\r")
                if not line.strip():
                    continue
                if source_format == "tsv":
                    fields = line.split("\t")
                    if len(fields) != len(columns):
                        raise ValueError(
                            f"{source}:{number}: expected {len(columns)} "
                            f"tab-separated fields, found {len(fields)}"
                        )
                    writer.writerow(fields)
                    continue
                try:
                    record = json.loads(line)
                except ValueError as error:
                    raise ValueError(
                        f"{source}:{number}: not a JSON object: {error}"
                    ) from None
                if not isinstance(record, dict):
                    raise ValueError(f"{source}:{number}: expected a JSON object")
                writer.writerow([cell(record.get(name)) for name in columns])
