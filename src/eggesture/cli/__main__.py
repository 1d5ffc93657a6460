"""``python -m eggesture.cli`` (same as the ``eggesture`` command)."""

import sys

from . import main

sys.exit(main())
