# [runtime]
# name = "run_r"
# language = "python"
# runs = "r"
# summary = "Runs an R recipe with Rscript, its arguments written as escaped R literals."
# libraries = []

import subprocess
import tempfile


def run_r(source: str, entry: str, /, **params: object) -> None:
    """Define the R function `source` and call `entry` with `params`, via Rscript.

    Every value becomes an R literal (strings escaped, None as NULL, lists as c() or
    list()), so no argument is ever spliced into code unquoted.
    """

    def literal(value: object) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return f"{value}L"
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, str):
            if "\0" in value:
                raise ValueError("R strings cannot hold NUL characters")
            escaped = "".join(
                f"\\u{{{ord(c):04x}}}" if not c.isprintable() or c in '\\"' else c
                for c in value
            )
            return f'"{escaped}"'
        if isinstance(value, (list, tuple)):
            items = [literal(item) for item in value]
            scalars = all(isinstance(v, str) for v in value) and value
            return ("c(" if scalars else "list(") + ", ".join(items) + ")"
        raise TypeError(f"cannot pass a {type(value).__name__} to an R recipe")

    call = (
        f"{entry}(" + ", ".join(f"{k} = {literal(v)}" for k, v in params.items()) + ")"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as script:
        script.write(source + "\n" + call + "\n")
    subprocess.run(["Rscript", "--vanilla", script.name], check=True)
