"""`python -m dailypapers` runs the CLI."""

from dailypapers.cli import main

main()
