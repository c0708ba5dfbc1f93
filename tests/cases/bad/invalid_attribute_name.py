from aorist import NumericIdentifier

NumericIdentifier("from id")
