from aorist import Categorical

Categorical("code", regex="[A-Z]{2}", accepted_values=["FR", "fr"])
