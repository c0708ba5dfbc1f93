"""The quickstart's universe as a file for the command line:

    aorist generate examples/lab.py --dialect airflow -o dags/

It imports `universe` from `universe.py` next to it (aorist puts a universe file's own
directory first on sys.path while loading it). Its sources are read from
$QUICKSTART_SOURCES, by default http://127.0.0.1:8000, where

    python3 -m http.server 8000 --directory quickstart-run/sources

serves the files `make quickstart` made.
"""

from __future__ import annotations

import os

from universe import universe

lab = universe(os.environ.get("QUICKSTART_SOURCES", "http://127.0.0.1:8000"))
