"""Paths of the repository the tests run from."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
