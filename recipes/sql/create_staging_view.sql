-- [recipe]
-- constraint = "TemporaryTableCreated"
-- language = "sql"
-- entry = "create_staging_view"
-- summary = "A staging view reads the computed Parquet file, once its columns (names, order and types) are checked against the declared schema."
-- libraries = []
-- when = { engine = ["lake"], "staging.format" = ["parquet"] }
--
-- [recipe.parameters]
-- schema = { from = "staging.schema", sql = "identifier", doc = "staging schema" }
-- table = { from = "staging.table", sql = "identifier", doc = "staging view to create" }
-- file = { from = "staging.file", sql = "lake_path", doc = "computed Parquet file" }
-- signature = { from = "columns.signature", sql = "literal", doc = "declared columns as 'name TYPE, ...', or NULL for an undefined schema" }
-- dataset = { from = "dataset.name", sql = "literal", doc = "dataset name, for error messages" }
-- asset = { from = "asset.name", sql = "literal", doc = "asset name, for error messages" }

-- The file's columns must be the declared ones, names, order and DuckDB
-- types, or the step fails (DuckDB's error()) and leaves no view behind.
-- A NULL signature (UndefinedTabularSchema) accepts the columns it finds.
DROP VIEW IF EXISTS {table};
SELECT CASE
    WHEN {signature} IS NULL OR computed = {signature} THEN NULL
    ELSE error(
        {dataset} || '.' || {asset} || ': the computed columns ('
        || computed || ') differ from the declared schema ('
        || {signature} || '); fix: make the computation return the '
        || 'declared columns in this order and with these types (e.g. '
        || 'CAST(x AS DOUBLE) AS x), or declare the schema it returns'
    )
END AS columns_checked
FROM (
    SELECT string_agg(column_name || ' ' || column_type, ', ') AS computed
    FROM (DESCRIBE SELECT * FROM read_parquet({file}))
);
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE OR REPLACE VIEW {table} AS
SELECT * FROM read_parquet({file});
