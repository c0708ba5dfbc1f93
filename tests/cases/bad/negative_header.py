from aorist import CSVHeader

CSVHeader(num_lines=-1)
