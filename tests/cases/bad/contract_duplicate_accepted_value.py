from aorist import Categorical

Categorical("label", accepted_values=["red", "green", "red"])
