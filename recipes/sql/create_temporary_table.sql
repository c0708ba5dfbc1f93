-- [recipe]
-- constraint = "TemporaryTableCreated"
-- language = "sql"
-- entry = "create_temporary_table"
-- summary = "A staging view reads the staged CSV file as text and converts each column exactly to its declared type."
-- libraries = []
-- when = { engine = ["lake"], "staging.format" = ["csv"] }
--
-- [recipe.parameters]
-- schema = { from = "staging.schema", sql = "identifier", doc = "staging schema" }
-- table = { from = "staging.table", sql = "identifier", doc = "staging view to create" }
-- file = { from = "staging.file", sql = "lake_path", doc = "staged header-less CSV file" }
-- text_columns = { from = "columns.varchar", sql = "struct", doc = "column names, each read as VARCHAR" }
-- columns = { from = "columns.checked", sql = "checked", doc = "column names, DuckDB types and nullability" }
-- dataset = { from = "dataset.name", sql = "literal", doc = "dataset name, for error messages" }
-- asset = { from = "asset.name", sql = "literal", doc = "asset name, for error messages" }
-- header_lines = { from = "source.header_lines", sql = "literal", doc = "header lines the source had, to count source lines" }

-- Reading the view fails (DuckDB's error()) on the first value that does
-- not convert exactly, or a NULL in a non-nullable column, naming the
-- table, column, source line and value: DuckDB's own casts would round
-- '3.5' to 4 and keep an empty key as NULL.
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE OR REPLACE VIEW {table} AS
WITH staged AS (
    SELECT
        {dataset} || '.' || {asset} AS __aorist_table,
        {header_lines} + row_number() OVER () AS __aorist_line,
        *
    FROM read_csv(
        {file},
        header = false,
        delim = ',',
        quote = '"',
        escape = '"',
        auto_detect = false,
        columns = {text_columns}
    )
)
SELECT {columns} FROM staged;
