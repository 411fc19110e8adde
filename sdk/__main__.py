"""``python -m fewstep`` runs the ``fewstep`` command."""

import sys

from fewstep.cli import main

sys.exit(main())
