# [helper]
# name = "lake_lock"
# language = "python"
# summary = "One process at a time uses the lake's DuckDB database: a step waits for its turn instead of failing on DuckDB's file lock."

import contextlib
import fcntl
import os
import threading
import time

# DuckDB lets one process open a database file for writing, and no other process open it
# at all meanwhile: a second step connecting at that moment fails with "Could not set
# lock on file". Steps that run at once (an Airflow DAG under any executor with
# parallelism, several programs over one lake) therefore take `<lake>/lake.duckdb.lock`
# with flock(2) around every connection. The lock is held only while a step reads or
# writes the catalog; downloads, decompression and the other file steps never take it.
# The kernel releases it when its holder dies, so no stale lock is left behind.
_LAKE_LOCKS: dict[str, list] = {}
# Threads of one process (an orchestrator's task runner) take the lake's lock in turn:
# flock(2) would let them all in, the lock being the process's.
_THREAD_LOCKS: dict[str, threading.RLock] = {}
_GUARD = threading.Lock()


@contextlib.contextmanager
def lake_lock(lake_path: str):
    """Hold the lake's lock; nested uses in one thread share the outer one."""
    os.makedirs(lake_path, exist_ok=True)
    path = os.path.realpath(os.path.join(lake_path, "lake.duckdb.lock"))
    with _GUARD:
        turn = _THREAD_LOCKS.setdefault(path, threading.RLock())
    with turn:
        held = _LAKE_LOCKS.get(path)
        if held is not None:
            held[1] += 1
            try:
                yield
            finally:
                held[1] -= 1
            return
        handle = open(path, "a+b")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                started = time.monotonic()
                fcntl.flock(handle, fcntl.LOCK_EX)
                waited = time.monotonic() - started
                print(
                    f"waited {waited:.1f} s for the lake's lock {path}\n",
                    end="",
                    flush=True,
                )
            _LAKE_LOCKS[path] = [handle, 1]
            try:
                yield
            finally:
                del _LAKE_LOCKS[path]
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            handle.close()
