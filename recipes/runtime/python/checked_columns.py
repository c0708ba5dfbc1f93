# [helper]
# name = "checked_columns"
# language = "python"
# summary = "The DuckDB select list that converts staged text columns exactly to their declared types, or fails naming where and which value."


def checked_column(name: str, kind: str, nullable: bool, where: str) -> str:
    """The select expression converting the text column `name` exactly to `kind`.

    `where` is a SQL expression heading the error (table, column, line): the first
    value that does not convert, or an empty value in a non-nullable column, fails
    the query through DuckDB's error(). DuckDB's own casts would round '3.5' to 4 and
    keep an empty key as NULL.
    """

    def literal(value: object) -> str:
        return "'" + str(value).replace("'", "''") + "'"

    column = '"' + str(name).replace('"', '""') + '"'
    value = f"'''' || left({column}, 80) || ''''"
    if kind == "BIGINT":
        bad = (
            f"NOT regexp_full_match({column}, '\\s*[+-]?[0-9]+\\s*')"
            f" OR TRY_CAST(trim({column}) AS BIGINT) IS NULL"
        )
        converted, what = f"CAST(trim({column}) AS BIGINT)", "a whole number"
    elif kind == "VARCHAR":
        bad, converted, what = "FALSE", column, "text"
    else:
        bad = f"TRY_CAST({column} AS {kind}) IS NULL"
        converted, what = f"CAST({column} AS {kind})", f"a {kind.lower()}"
    empty = (
        "NULL"
        if nullable
        else f"error({where} || 'empty value in a non-nullable column')"
    )
    return (
        f"CASE WHEN {column} IS NULL THEN {empty}"
        f" WHEN {bad} THEN error({where} || {value} || "
        f"{literal(f' is not {what} ({kind})')})"
        f" ELSE {converted} END AS {column}"
    )
