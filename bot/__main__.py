"""`python -m bot` is `confluence-check serve` (docs/architecture.md §Command line); other arguments pass through."""

import sys

from bot.cli import main

sys.exit(main(sys.argv[1:] or ["serve"]))
