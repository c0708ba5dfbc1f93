from aorist import Encoding

Encoding()
