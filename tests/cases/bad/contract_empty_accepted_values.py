from aorist import Categorical

Categorical("label", accepted_values=[])
