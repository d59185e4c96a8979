"""`python -m structgen`: the command line."""

from structgen.api.cli import main

main()
