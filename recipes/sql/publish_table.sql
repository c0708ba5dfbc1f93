-- [recipe]
-- constraint = "TablePublished"
-- language = "sql"
-- entry = "publish_table"
-- summary = "The target Parquet file is loaded into a table of the lake's DuckDB database."
-- libraries = []
-- when = { "target.format" = ["parquet"] }
--
-- [recipe.parameters]
-- schema = { from = "target.schema", sql = "identifier", doc = "schema of the table" }
-- table = { from = "target.table", sql = "identifier", doc = "schema and name of the table to create" }
-- source = { from = "target.file", sql = "lake_path", doc = "lake-relative path of the Parquet file" }

-- An existing table is kept. DuckDB binds the SELECT even then, so the file
-- must still exist.
BEGIN TRANSACTION;
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM read_parquet({source});
COMMIT;
