"""``python -m hypernodes run|show|plugins ...``: the same as the ``hypernodes`` command."""

import sys

from ._cli import main

sys.exit(main())
