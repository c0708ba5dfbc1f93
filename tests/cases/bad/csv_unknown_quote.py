from aorist import CSVEncoding

CSVEncoding(quote="`")
