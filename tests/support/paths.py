"""Where the repository and the tests' own data are, wherever a test module sits."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"
