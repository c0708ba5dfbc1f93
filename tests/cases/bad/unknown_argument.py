from aorist import CSVHeader

CSVHeader(num_line=3)
