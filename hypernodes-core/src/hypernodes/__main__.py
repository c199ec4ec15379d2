"""``python -m hypernodes run|show|plugins ...``: the same as the ``hypernodes`` command."""

import sys

from ._cli import main

if __name__ == "__main__":  # process-pool workers import this module again: run nothing then
    sys.exit(main())
