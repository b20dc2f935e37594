"""``python -m composer`` is the ``composer`` command."""

import sys

from composer.cli.main import main

if __name__ == "__main__":  # guarded: corpus preparation starts worker processes that import this module
    sys.exit(main())
