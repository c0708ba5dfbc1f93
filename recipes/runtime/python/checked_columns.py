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
    quote = literal("'")
    value = f"{quote} || left({column}, 80) || {quote}"
    if kind == "VARCHAR":
        converted = column
    else:
        what = "a whole number" if kind == "BIGINT" else f"a {kind.lower()}"
        wrong = f"error({where} || {value} || {literal(f' is not {what} ({kind})')})"
        # One cast per value; a value that does not convert fails the query.
        converted = f"coalesce(TRY_CAST({column} AS {kind}), {wrong})"
        if kind == "BIGINT":
            # DuckDB's cast rounds '3.5' to 4 and reads '1e3': only digits pass.
            converted = (
                f"CASE WHEN regexp_full_match({column}, '\\s*[+-]?[0-9]+\\s*')"
                f" THEN {converted} ELSE {wrong} END"
            )
    empty = (
        "NULL"
        if nullable
        else f"error({where} || 'empty value in a non-nullable column')"
    )
    return f"CASE WHEN {column} IS NULL THEN {empty} ELSE {converted} END AS {column}"
