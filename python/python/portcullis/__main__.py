"""``python -m portcullis``: the same command line as the ``portcullis`` script."""

from ._cli import main

main()
