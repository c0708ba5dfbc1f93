# [runtime]
# name = "run_bash"
# language = "python"
# runs = "bash"
# summary = "Runs a Bash recipe with its parameters as positional arguments, never interpolated."
# libraries = []

import subprocess


def run_bash(script: str, name: str, *args: object) -> None:
    """Run `script` with bash; `args` become "$1", "$2", ... (None becomes an empty string)."""
    values = ["" if arg is None else str(arg) for arg in args]
    subprocess.run(["bash", "-c", script, name, *values], check=True)
