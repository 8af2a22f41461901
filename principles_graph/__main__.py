"""`python -m principles_graph` runs the command line."""

from principles_graph.cli import main

main()
