# [helper]
# name = "contracts"
# language = "python"
# summary = "Before a table is published, every contract declared on its columns is checked in one pass over its new rows; a violation fails the step, naming the table, the column, the contract, the number of rows and up to five examples."

# A contract is [column, contract, value, label]: min, max, accepted_values, regex or
# unique, and the label the message prints (`min=0`, `regex="^[A-Z]{2}$"`). A NULL
# breaks none of them (`nullable` is checked while the rows are converted).


class ContractViolation(ValueError):
    """Rows of a table break contracts declared on its columns: nothing was published.

    An orchestrator tells it from other failures (Dagster fails the asset's check)."""


def contract_sql_literal(value, dialect: str = "duckdb") -> str:
    """A literal of a contract's value in DuckDB's, PostgreSQL's or Spark's SQL."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if dialect == "spark":
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + str(value).replace("'", "''") + "'"


def contract_quote(column: str, dialect: str = "duckdb") -> str:
    """A column name quoted for the dialect."""
    if dialect == "spark":
        return "`" + str(column).replace("`", "``") + "`"
    return '"' + str(column).replace('"', '""') + '"'


def contract_breaks(column: str, contract: str, value, dialect: str = "duckdb") -> str:
    """The condition true for a row that breaks the contract (not for `unique`), in
    DuckDB's, PostgreSQL's or Spark's SQL; the regex matches the whole value."""
    quoted = contract_quote(column, dialect)

    def literal(value) -> str:
        return contract_sql_literal(value, dialect)

    if contract == "min":
        return f"{quoted} < {literal(value)}"
    if contract == "max":
        return f"{quoted} > {literal(value)}"
    if contract == "accepted_values":
        return f"{quoted} NOT IN ({', '.join(literal(v) for v in value)})"
    if contract == "regex" and dialect == "postgres":
        return f"NOT ({quoted}::text ~ {literal(f'^(?:{value})$')})"
    if contract == "regex" and dialect == "spark":
        return f"NOT ({quoted} RLIKE {literal(f'^(?:{value})$')})"
    if contract == "regex":
        return f"NOT regexp_full_match({quoted}, {literal(value)})"
    raise ValueError(f"unknown contract {contract!r}")


def check_contracts(
    run, relation: str, label: str, contracts: list, dialect: str = "duckdb"
) -> None:
    """Check every contract on `relation` (a table expression) in one pass, through
    `run(query)` (its rows); on a violation, fail naming each contract broken, with
    up to five examples (a second query per broken contract)."""
    if not contracts:
        return
    counts = []
    for column, contract, value, _ in contracts:
        quoted = contract_quote(column, dialect)
        if contract == "unique":
            counts.append(f"count({quoted}) - count(DISTINCT {quoted})")
        else:
            condition = contract_breaks(column, contract, value, dialect)
            counts.append(f"count(*) FILTER (WHERE {condition})")
    found = run(f"SELECT {', '.join(counts)} FROM {relation}")[0]
    broken = []
    for (column, contract, value, shown), count in zip(contracts, found, strict=True):
        if not count:
            continue
        quoted = contract_quote(column, dialect)
        if contract == "unique":
            query = (
                f"SELECT {quoted} FROM {relation} WHERE {quoted} IS NOT NULL"
                " GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 5"
            )
        else:
            condition = contract_breaks(column, contract, value, dialect)
            query = (
                f"SELECT DISTINCT {quoted} FROM {relation} WHERE {condition}"
                " ORDER BY 1 LIMIT 5"
            )
        examples = ", ".join("'" + str(row[0])[:80] + "'" for row in run(query))
        rows = "1 row breaks" if count == 1 else f"{count} rows break"
        # Every engine's message names the column alike.
        named = contract_quote(column)
        broken.append(f"{label}: column {named}: {rows} {shown} (examples: {examples})")
    if broken:
        raise ContractViolation(
            "; ".join(broken) + "; fix: correct the source, or the contract declared "
            "on the attribute; nothing was published, the table keeps its previous "
            "version"
        )
