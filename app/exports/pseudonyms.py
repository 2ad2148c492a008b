"""Annotator pseudonyms for the raw judgements export.

``pseudonym = "ann-" + HMAC-SHA256(k, "<project id>:<user id>")[:16 hex]`` where ``k`` is
derived from the app's secret key (``ARBITER_SECRET_KEY``) for this one purpose. The same
annotator has the same pseudonym in every export of a project, different pseudonyms in
different projects, and nobody without the secret can tell who it is (user ids are small
numbers, so a plain hash could be reversed by trying them all). Changing the secret key
changes every pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import cache

PURPOSE = b"arbiter: annotator pseudonyms v1"


def pseudonymizer(secret: str, project_id: int) -> Callable[[int], str]:
    key = hmac.new(secret.encode(), PURPOSE, hashlib.sha256).digest()

    @cache
    def pseudonym(user_id: int) -> str:
        message = f"{project_id}:{user_id}".encode()
        return "ann-" + hmac.new(key, message, hashlib.sha256).hexdigest()[:16]

    return pseudonym
