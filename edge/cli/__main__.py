"""`python -m edge.cli`: the `oee-edge` command."""

import sys

from edge.cli.main import main

sys.exit(main())
