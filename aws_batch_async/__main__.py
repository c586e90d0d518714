"""``python -m aws_batch_async``: the ``aws-batch-async`` command line."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
