"""``python -m provarchive``: run the command line."""

from provarchive.cli import main

main()
