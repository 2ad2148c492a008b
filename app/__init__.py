"""Arbiter: human preference labels on LLM outputs, exported as training data."""

from pathlib import Path

__version__ = "0.1.0"

#: The repository root: templates/, static/ and migrations/ live beside the package.
ROOT = Path(__file__).resolve().parent.parent
