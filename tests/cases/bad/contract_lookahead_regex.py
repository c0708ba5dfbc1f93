from aorist import StringIdentifier

StringIdentifier("code", regex="[A-Z]+(?=[0-9])")
