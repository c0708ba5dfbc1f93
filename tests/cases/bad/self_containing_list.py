from aorist import NumericIdentifier, RowStruct

attributes = [NumericIdentifier("from_id")]
attributes.append(attributes)
RowStruct(name="edge", attributes=attributes)
