"""The ``portcullis`` console script: the library's command line, run in-process."""

from __future__ import annotations

import sys
from typing import List, Optional

from . import _portcullis


def main(argv: Optional[List[str]] = None) -> None:
    """Run ``portcullis`` with ``argv`` (default: ``sys.argv[1:]``) and exit with its status."""
    args = list(sys.argv[1:] if argv is None else argv)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(_portcullis.cli_main(["portcullis", *args]))


if __name__ == "__main__":
    main()
