"""``python -m jupyter_llm.cli``: the same as the ``jupyter-llm`` command."""

import sys

from . import main

sys.exit(main())
