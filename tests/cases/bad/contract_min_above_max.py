from aorist import Float64

Float64("weight", min=2, max=1.5)
