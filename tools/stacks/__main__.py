"""python -m stacks: the same as the `stacks` command."""

import sys

from stacks.cli import main

sys.exit(main())
