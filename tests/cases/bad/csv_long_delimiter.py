from aorist import CSVEncoding

CSVEncoding(delimiter=";;")
