"""`python -m tabledag`: the `tabledag` command."""

import sys

from tabledag.cli.main import main

sys.exit(main())
