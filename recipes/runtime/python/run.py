# [helper]
# name = "Run"
# language = "python"
# summary = "One run of a program: it holds the lake's lock, runs each step after its upstream steps, and goes on past a failed step with every step that does not need it."
# program = true
# uses = ["markers"]

import concurrent.futures
import os
import shutil
import socket
import sys
import threading
import time
import uuid


class Run:
    """One run of the program over the lake at `lake_path`.

    `start()` takes the lake's lock (the directory `<lake>/.lock`, holding the owner's
    pid and host): a second run on the same lake stops at once with a message, and a
    lock left by a process that died is taken over. `step()` runs a task unless one of
    its upstream tasks failed or was skipped; a failed task is reported and the run
    goes on. `background()` does the same in one of a few threads, for tasks that
    touch no shared writer (downloads): the program goes on, and a task that needs one
    waits for it. `finish()` waits for those, releases the lock and exits non-zero
    when a task failed.

    Under an orchestrator (Dagster, Prefect, Hamilton), which orders the tasks and
    retries them, a run is `raising`: `task()` runs a task at once and raises its
    error, and `finish()` leaves failures to the orchestrator. Tasks that touch a
    shared writer run one at a time even when the orchestrator runs them in threads;
    `parallel_task()` runs those that write only their own files (downloads) at once.
    With `wait`, a run whose lake is in use waits up to that many seconds for it.
    """

    # Tasks run in the background at once, at most (downloads wait on the network).
    WORKERS = 4
    # The helpers a lake or object-store step decides with: a dry run calls it.
    PLANNERS = {
        "producing",
        "publish_lake_table",
        "s3_producing",
        "s3_local_step",
        "s3_table_chain",
    }

    def __init__(
        self,
        lake_path: str,
        arguments: list[str] | None = None,
        *,
        raising: bool = False,
        wait: float = 0.0,
    ) -> None:
        unknown = [a for a in arguments or [] if a != "--dry-run"]
        if unknown:
            raise SystemExit(
                f"unknown argument {unknown[0]!r}; usage: [--dry-run] (say which "
                "steps are fresh, stale or missing, and change nothing)"
            )
        self.dry_run = "--dry-run" in (arguments or [])
        self.states: dict[str, tuple[str, str]] = {}
        # (task, version, outcome, engine) of each task that made or failed something,
        # and the settings of each engine a task worked on (see engine_store).
        self.records: list[tuple[str, str, str, str | None]] = []
        self.stores: dict[str, dict] = {}
        self.lake_path = lake_path
        self.lock = os.path.join(lake_path, ".lock")
        self.owner = f"{os.getpid()} {socket.gethostname()} {time.strftime('%Y-%m-%dT%H:%M:%S%z')}"
        self.failed: dict[str, str] = {}
        self.skipped: list[str] = []
        # Tasks run again to make a removed temporary copy a later step reads.
        self.remade: set[str] = set()
        self.held = False
        self.pending: dict[str, concurrent.futures.Future] = {}
        self.pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.mutex = threading.Lock()
        self.raising, self.wait = raising, wait
        # Held by each task that is not a parallel one (see `task`).
        self.serial = threading.Lock()

    def __enter__(self) -> "Run":
        return self.start()

    def __exit__(self, kind, error, trace) -> None:
        self.finish(interrupted=error is not None)

    def start(self) -> "Run":
        # A notebook's kernel may hold an earlier run's predictions and deferrals.
        for held in (PREDICTED, MADE_BY, DEFERRED):
            held.clear()
        if self.dry_run:
            return self
        os.makedirs(self.lake_path, exist_ok=True)
        deadline = time.monotonic() + self.wait
        said = False
        attempts = 0
        while attempts < 3:
            attempts += 1
            try:
                os.mkdir(self.lock)
            except FileExistsError:
                holder = self.holder()
                if holder is None or not self.take_over(holder):
                    if time.monotonic() < deadline:
                        if not said:
                            print(
                                f"waiting for the lake {self.lake_path}, in use by "
                                f"{holder or 'a run that is starting'}\n",
                                end="",
                                flush=True,
                            )
                            said = True
                        time.sleep(0.5)
                        attempts = 0
                        continue
                    raise SystemExit(
                        f"the lake {self.lake_path} is in use by "
                        f"{holder or 'a run that is starting'} (pid, host, since); "
                        "wait for that run to finish, or delete "
                        f"{self.lock} if that process is gone"
                    ) from None
                continue
            with open(
                os.path.join(self.lock, "owner"), "w", encoding="utf-8"
            ) as handle:
                handle.write(self.owner + "\n")
            self.held = True
            return self
        raise SystemExit(f"could not take the lock {self.lock}; try again")

    def holder(self) -> str | None:
        """The lock's owner line; a lock still without one after 2 s was abandoned."""
        for _ in range(20):
            try:
                with open(os.path.join(self.lock, "owner"), encoding="utf-8") as handle:
                    text = handle.read().strip()
                if text:
                    return text
            except FileNotFoundError:
                if not os.path.isdir(self.lock):
                    return ""
            time.sleep(0.1)
        return ""

    def take_over(self, holder: str) -> bool:
        """Remove a lock whose owner died on this host; False if it is (or may be) alive."""
        fields = holder.split()
        if fields:
            if len(fields) < 2 or fields[1] != socket.gethostname():
                return False
            try:
                # A notebook run again in its kernel finds its own lock: the old run is over.
                if int(fields[0]) != os.getpid():
                    os.kill(int(fields[0]), 0)
                    return False
            except ProcessLookupError:
                pass
            except (PermissionError, ValueError):
                return False
        stale = f"{self.lock}.stale-{uuid.uuid4().hex[:8]}"
        try:
            os.rename(self.lock, stale)
        except FileNotFoundError:
            return True  # its owner released it meanwhile
        try:
            with open(os.path.join(stale, "owner"), encoding="utf-8") as handle:
                moved = handle.read().strip()
        except FileNotFoundError:
            moved = ""
        if moved != holder:
            # Another run took the stale lock over first: this one is alive.
            os.rename(stale, self.lock)
            return False
        shutil.rmtree(stale, ignore_errors=True)
        print(f"took over the lock of a run that died ({holder})\n", end="", flush=True)
        return True

    def step(self, task: str, upstream: list[str], function=None, /, *args, **kwargs):
        """Run `function(*args, **kwargs)` as `task`, unless an upstream task did not finish."""
        if self.ready(task, upstream):
            self.call(task, function, args, kwargs, upstream)

    def background(
        self, task: str, upstream: list[str], function=None, /, *args, **kwargs
    ):
        """`step()` in a background thread: the next tasks start meanwhile."""
        if not self.ready(task, upstream):
            return
        if function is None:
            self.call(task, function, args, kwargs, upstream)
            return
        if self.pool is None:
            self.pool = concurrent.futures.ThreadPoolExecutor(self.WORKERS)
        self.pending[task] = self.pool.submit(
            self.call, task, function, args, kwargs, upstream
        )

    def task(self, task: str, function=None, /, *args, **kwargs) -> str:
        """Run `task` now, one at a time with the run's other tasks (the orchestrator
        decided it may run); raise its error if it fails. Returns "fresh" when all it
        makes was up to date, else "made"."""
        with self.serial:
            return self.parallel_task(task, function, *args, **kwargs)

    def parallel_task(self, task: str, function=None, /, *args, **kwargs) -> str:
        """`task()` for a task that writes only its own files: runs alongside others."""
        with self.mutex:
            # A retry of a failed task (the orchestrator's) starts afresh.
            self.failed.pop(task, None)
        print(f"running {task}\n", end="", flush=True)
        return self.call(task, function, args, kwargs, [])

    def ready(self, task: str, upstream: list[str]) -> bool:
        """Whether `task` may run: its upstream tasks (waited for) all finished."""
        for name in upstream:
            future = self.pending.pop(name, None)
            if future is not None:
                future.result()
        blocked = [
            name for name in upstream if name in self.failed or name in self.skipped
        ]
        if blocked:
            self.skipped.append(task)
            said = f"skipped {task}: upstream {blocked[0]} did not finish\n"
            print(said, end="", flush=True)
            return False
        if not self.dry_run:
            # One write per line: tasks in threads print at once.
            print(f"running {task}\n", end="", flush=True)
        return True

    def call(
        self, task: str, function, args: tuple, kwargs: dict, upstream: list[str]
    ) -> str:
        start = time.monotonic()
        current = Task(
            task,
            function,
            self.dry_run,
            lambda: self.remake(task, function, args, kwargs),
        )
        if function is not None and (
            not self.dry_run or self.plannable(function, upstream)
        ):
            token = TASK.set(current)
            try:
                function(*args, **kwargs)
            except WouldMake:
                # A dry run's step on an engine, up to date in nothing but its own
                # version (its inputs are fresh): its code or parameters changed.
                state = current.hint or "stale"
                current.found(state, "" if state == "missing" else CHANGED)
            except Exception as error:
                with self.mutex:
                    self.failed[task] = f"{type(error).__name__}: {error}"
                    if not self.dry_run:
                        self.record(current, "failed")
                print(
                    f"FAILED {task}: {self.failed[task]}\n",
                    file=sys.stderr,
                    end="",
                    flush=True,
                )
                if self.raising:
                    raise
                return "failed"
            finally:
                TASK.reset(token)
        states = [state for state, _ in current.outcomes]
        why = next((why for _, why in current.outcomes if why), "")
        if self.dry_run:
            if "missing" in states:
                state = ("missing", "")
            elif "stale" in states:
                state = ("stale", next(w for s, w in current.outcomes if s == "stale"))
            elif states:
                state = ("fresh", "")
            else:
                state = self.derived(upstream)
            with self.mutex:
                self.states[task] = state
            # One write per line: tasks in threads print at once.
            line = f"{task}: {state[0]}{f' ({state[1]})' if state[1] else ''}\n"
            print(line, end="", flush=True)
            return state[0]
        if "made" in states and not current.recorded:
            # A task that recorded itself did so in the transaction of what it made.
            with self.mutex:
                self.record(current, current.made_as)
        elif current.store is not None:
            with self.mutex:
                self.stores.setdefault(*current.store)
        if states and all(state == "fresh" for state in states):
            said = why if why.startswith("up to date") else "up to date"
            print(f"skipped {task}: {said}\n", end="", flush=True)
            return "fresh"
        seconds = time.monotonic() - start
        if seconds >= 1.0:
            print(f"finished {task} in {seconds:.1f} s\n", end="", flush=True)
        return "made"

    def remake(self, task: str, function, args: tuple, kwargs: dict) -> None:
        """Run `task` again, making what it left removed (see markers.restore): a
        later step reads it. A failure is that step's."""
        with self.mutex:
            if task in self.remade:
                return
            self.remade.add(task)
        current = Task(task, function)
        current.restoring = True
        token = TASK.set(current)
        try:
            function(*args, **kwargs)
        finally:
            TASK.reset(token)
        if any(state == "made" for state, _ in current.outcomes):
            with self.mutex:
                self.record(current, current.made_as)

    def plannable(self, function, upstream: list[str]) -> bool:
        """Whether a dry run calls `function`: it decides from versions what to make
        (and makes nothing in a dry run; PostgreSQL refuses its writes). Other tasks
        (checks, clean-up), and a step on PostgreSQL or Spark after one that is not
        fresh, are as fresh as their upstream."""
        names = set(function.__code__.co_names)
        if any(name.startswith(("pg_", "spark_")) for name in names):
            if self.derived(upstream)[0] != "fresh":
                return False
            asks = {"pg_is_current", "producing", "spark_is_current", "spark_marker"}
            return bool(names & asks)
        return bool(names & Run.PLANNERS)

    def record(self, task: Task, outcome: str) -> None:
        """Keep `task`'s version and outcome for the state table (with the mutex)."""
        kind = task.store[0] if task.store is not None else None
        if task.store is not None:
            self.stores.setdefault(*task.store)
        self.records.append((task.name, task.version(), outcome, kind))

    def record_steps(self) -> None:
        """Write the kept records where each engine keeps the program's state: the
        lake's `_aorist.steps`, PostgreSQL's, or a file per step beside Spark's
        warehouse or in the bucket. A task on local files only (a download) is
        recorded in the lake, or, in a program without one, where the engine its run
        worked on keeps them."""
        writers = {
            "postgres": globals().get("pg_record_steps"),
            "spark": globals().get("spark_record_steps"),
            "objectstore": globals().get("s3_record_steps"),
        }
        lake = globals().get("lake_record_steps")
        groups: dict[str | None, list[tuple[str, str, str]]] = {}
        for task, version, outcome, kind in self.records:
            groups.setdefault(kind, []).append((task, version, outcome))
        local = groups.pop(None, [])
        if local and lake is not None:
            lake(self.lake_path, local)
        elif local and self.stores:
            groups.setdefault(min(self.stores), []).extend(local)
        for kind, rows in sorted(groups.items()):
            writer = writers[kind]
            if writer is not None:
                writer(self.stores[kind], rows)
        self.records = []

    def derived(self, upstream: list[str]) -> tuple[str, str]:
        """The state of a task that makes no file: that of its upstream tasks."""
        with self.mutex:
            states = [(name, self.states.get(name, ("fresh", ""))) for name in upstream]
        if any(state == "missing" for _, (state, _) in states):
            return ("missing", "")
        stale = [name for name, (state, _) in states if state == "stale"]
        return ("stale", f"upstream {stale[0]} changed") if stale else ("fresh", "")

    def finish(self, interrupted: bool = False) -> None:
        """Release the lock; exit with status 1, listing them, if tasks failed."""
        for future in list(self.pending.values()):
            future.result()
        self.pending.clear()
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None
        try:
            if self.held and self.records:
                self.record_steps()
        finally:
            if self.held:
                shutil.rmtree(self.lock, ignore_errors=True)
                self.held = False
        if self.dry_run and not interrupted:
            counts = {
                state: sum(1 for s, _ in self.states.values() if s == state)
                for state in ("fresh", "stale", "missing")
            }
            summary = ", ".join(f"{n} {state}" for state, n in counts.items())
            if self.failed:
                summary += f", {len(self.failed)} failed"
            if counts["stale"] or counts["missing"] or self.failed:
                raise SystemExit(f"not up to date: {summary}")
            print(f"up to date: {summary}\n", end="", flush=True)
            return
        if self.failed and not interrupted and not self.raising:
            # The first line of each error; the whole of it was printed when it failed.
            lines = [
                f"  {task}: {error.splitlines()[0]}"
                for task, error in self.failed.items()
            ]
            skipped = (
                f"; {len(self.skipped)} skipped after them" if self.skipped else ""
            )
            raise SystemExit(
                f"{len(self.failed)} task(s) failed{skipped}:\n" + "\n".join(lines)
            )
