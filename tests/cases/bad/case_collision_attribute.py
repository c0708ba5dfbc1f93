from aorist import NumericIdentifier, RowStruct

RowStruct(name="edge", attributes=[NumericIdentifier("from_id"), NumericIdentifier("FROM_ID")])
