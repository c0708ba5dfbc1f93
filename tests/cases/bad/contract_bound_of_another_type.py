from aorist import Count

Count("edges", min=0.5)
