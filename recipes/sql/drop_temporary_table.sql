-- [recipe]
-- constraint = "TemporaryTableDropped"
-- language = "sql"
-- entry = "drop_temporary_table"
-- summary = "The staging view is dropped."
-- libraries = []
-- when = { engine = ["lake"] }
--
-- [recipe.parameters]
-- table = { from = "staging.table", sql = "identifier", doc = "staging view to drop" }

DROP VIEW IF EXISTS {table};
