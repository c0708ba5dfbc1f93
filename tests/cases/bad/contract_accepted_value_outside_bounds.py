from aorist import Int64

Int64("year", min=1900, max=2100, accepted_values=[1999, 2200])
