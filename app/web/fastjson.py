"""JSON responses rendered by orjson: the labelling API's request path, whose bodies are
built as plain dicts (app/web/routes/annotation_api.py), without pydantic's serialisation.

The output is the same JSON pydantic gives for the routes' response models: datetimes in
RFC 3339 with a ``Z`` for UTC, enums as their values, ``None`` as ``null``.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

OPTIONS = orjson.OPT_UTC_Z


class OrjsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=OPTIONS)
