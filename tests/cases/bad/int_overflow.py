from aorist import CSVHeader

CSVHeader(num_lines=10**30)
