from aorist import Int64

Int64("n", regex="^[0-9]+$")
