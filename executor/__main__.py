"""`python -m executor` runs the SQS worker, as `databot worker` does."""

import sys

from executor.cli import main

if __name__ == "__main__":
    sys.exit(main(["worker", *sys.argv[1:]]))
