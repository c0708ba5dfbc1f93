# [recipe]
# constraint = "ConvertedToTargetEncoding"
# language = "python"
# entry = "spark_convert_to_target"
# summary = "The staging table's rows, each value converted exactly to its declared type, are written as ORC or Parquet into a new version directory of the table's warehouse directory; a value that does not convert fails the step and writes nothing."
# libraries = ["pyspark"]
# uses = ["markers", "spark_session", "contracts"]
# when = { engine = ["spark"] }
#
# [recipe.parameters]
# spark = { from = "settings.spark", doc = "the Spark session's settings (master, warehouse_dir, app_name)" }
# table = { from = "staging.table", doc = "database and name of the staging table to read" }
# destination = { from = "target.file", doc = "warehouse-relative directory holding the table's versions" }
# target_format = { from = "target.format", doc = "one of parquet or orc" }
# staged = { from = "staging.file", doc = "warehouse-relative staged directory the staging table reads" }
# staged_format = { from = "staging.format", doc = "csv (text columns to convert) or parquet (typed columns)" }
# columns = { from = "columns.spark", doc = "[name, Spark type, nullable] per declared column, or None" }
# contracts = { from = "columns.contracts", doc = "[column, contract, value, label] of each contract declared on the columns" }

import os
import re
import uuid


def spark_convert_to_target(
    spark: dict,
    table: list[str],
    destination: str,
    target_format: str,
    staged: str,
    staged_format: str,
    columns: list[list] | None,
    contracts: list,
) -> None:
    """Write the staging table's rows to <warehouse>/destination/v-<version>/.

    Each text value converts exactly (a BIGINT is a whole number, '3.5' is not; a
    DOUBLE or BOOLEAN is what Spark's try_cast accepts) or the step fails naming the
    table, column and value; a NULL (an empty field) in a non-nullable column fails
    too. So does a row that breaks a contract, checked on the written rows before
    the rename: the table keeps its version. The version directory is written under
    a temporary name and renamed, and the step is skipped when it exists for the
    same staged rows (and contracts).
    """
    if target_format not in ("parquet", "orc"):
        raise ValueError(
            f"unknown target format {target_format!r}: expected parquet or orc"
        )
    session = spark_session(spark)
    asset = str(table[1]).replace("__", ".", 1)
    source = spark_location(spark, staged)
    target = spark_location(spark, destination)

    def check(column: str, kind: str, nullable: bool) -> str:
        value = spark_quote(column)
        where = f"{asset}: column {spark_quote(column)}"

        def fail(what: str) -> str:
            return (
                f"raise_error(concat({spark_literal(where + ': ')}, "
                f"{spark_literal(what)}))"
            )

        def bad_value(what: str) -> str:
            return (
                f"raise_error(concat({spark_literal(where + ': value ')}, "
                f"'\\'', substr({value}, 1, 80), '\\'', "
                f"{spark_literal(' is not ' + what + '; fix: correct the source, or declare the column with a type that holds it')}))"
            )

        empty = (
            "NULL"
            if nullable
            else fail(
                "NULL or empty value in a non-nullable column; fix: correct the source, "
                "or declare the attribute nullable=True"
            )
        )
        if staged_format == "parquet":
            converted = f"CAST({value} AS {kind})"
            return f"CASE WHEN {value} IS NULL THEN {empty} ELSE {converted} END"
        if kind == "STRING":
            bad, converted, what = "FALSE", value, "text"
        elif kind == "BIGINT":
            bad = (
                f"NOT (trim({value}) RLIKE '^[+-]?[0-9]+$') "
                f"OR try_cast(trim({value}) AS BIGINT) IS NULL"
            )
            converted, what = f"CAST(trim({value}) AS BIGINT)", "a whole number"
        else:
            bad = f"try_cast(trim({value}) AS {kind}) IS NULL"
            converted, what = f"CAST(trim({value}) AS {kind})", f"a {kind.lower()}"
        return (
            f"CASE WHEN {value} IS NULL THEN {empty} "
            f"WHEN {bad} THEN {bad_value(what)} ELSE {converted} END"
        )

    if columns is None:
        select = "*"
    else:
        select = ", ".join(
            f"{check(str(c), str(k), bool(n))} AS {spark_quote(c)}"
            for c, k, n in columns
        )
    query = f"SELECT {select} FROM {spark_quote(*table)}"
    checked = [contracts] if contracts else []
    key = step_key(
        "spark_convert_to_target",
        target_format,
        query,
        spark_marker(session, source),
        *checked,
    )
    version = "v-" + key[:20]
    current = spark_marker(session, target).split("\n")
    if current[0] == key and spark_exists(session, f"{target}/{version}"):
        report_output("fresh")
        return
    if spark_planned(session, target):
        return
    staged_dir = f"{target}/_tmp-{version}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        session.sql(query).write.format(target_format).save(staged_dir)
    except Exception as error:
        spark_delete(session, staged_dir)
        text = spark_error_text(error)
        raised = re.search(r"\[USER_RAISED_EXCEPTION\] (.*?)(?: SQLSTATE|\n|$)", text)
        # A failed step leaves no staging table, and distrusts the staged rows and
        # the local files they were made from, so a fixed source is read again.
        session.sql(f"DROP TABLE IF EXISTS {spark_quote(*table)}")
        lines = spark_marker(session, source).split("\n")
        spark_delete(session, source + ".done")
        if len(lines) > 1 and lines[1] and "://" not in lines[1]:
            invalidate(lines[1].split("\t"))
        if raised:
            raise ValueError(raised.group(1)) from None
        raise ValueError(
            f"{asset}: could not convert the staged rows in {source} to "
            f"{target_format}: {text}; fix: check the source's declared encoding "
            "(CSV or TSV, header lines, compression) and its schema"
        ) from None
    if contracts:
        written = session.read.format(target_format).load(staged_dir)
        written.createOrReplaceTempView("__aorist_checked")
        try:
            check_contracts(
                lambda query: [tuple(row) for row in session.sql(query).collect()],
                "__aorist_checked",
                asset,
                contracts,
                "spark",
            )
        except ValueError:
            # A failed step leaves no staging table and no new version behind.
            spark_delete(session, staged_dir)
            session.sql(f"DROP TABLE IF EXISTS {spark_quote(*table)}")
            raise
        finally:
            session.catalog.dropTempView("__aorist_checked")
    spark_delete(session, f"{target}/{version}")
    spark_rename(session, staged_dir, f"{target}/{version}")
    marker = f"{key}\n{source}\n{version}\n"
    spark_write_text(session, target + ".done", marker)
    report_output("made", version=digest(marker))
