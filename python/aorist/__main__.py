"""`python -m aorist` is the `aorist` command."""

import sys

from aorist.cli import main

sys.exit(main())
