from aorist import StringIdentifier

StringIdentifier("code", regex="[A-Z")
