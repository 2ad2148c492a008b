"""Arbiter: human preference labels on LLM outputs, exported as training data."""

from pathlib import Path

__version__ = "0.1.0"

_PACKAGE = Path(__file__).resolve().parent

#: Where templates/, static/, migrations/ and alembic.ini are: inside the package when it is
#: installed from a wheel (the build maps them in), else the repository root beside it.
RESOURCES = _PACKAGE if (_PACKAGE / "templates").is_dir() else _PACKAGE.parent
