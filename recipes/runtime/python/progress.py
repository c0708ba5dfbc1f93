# [helper]
# name = "progress"
# language = "python"
# summary = "Long work reports how far it is, at most once a second, and one line when it ends."

import time


class Progress:
    """Reports `done` of `total` (None: unknown) units of `label`'s work.

    Nothing is printed for work that ends within `quiet` seconds but its closing line;
    after that, at most one line a second: done, of how many, and the rate.
    """

    def __init__(self, label: str, unit: str, total: float | None = None) -> None:
        self.label, self.unit, self.total = label, unit, total
        self.start = time.monotonic()
        self.last = self.start
        self.done = 0.0

    def amount(self, value: float) -> str:
        if self.unit == "bytes":
            return f"{value / 1e6:.1f} MB"
        return f"{value:,.0f} {self.unit}"

    def advance(self, units: float) -> None:
        self.set(self.done + units)

    def set(self, done: float) -> None:
        self.done = done
        now = time.monotonic()
        if now - self.last < 1.0:
            return
        self.last = now
        rate = self.amount(done / max(now - self.start, 1e-9))
        of = ""
        if self.total:
            of = f" of {self.amount(self.total)} ({100 * done / self.total:.0f}%)"
        print(f"{self.label}: {self.amount(done)}{of}, {rate}/s\n", end="", flush=True)

    def finish(self, what: str) -> None:
        """One closing line: what was made, and how long it took."""
        seconds = time.monotonic() - self.start
        print(f"{self.label}: {what} in {seconds:.1f} s\n", end="", flush=True)
