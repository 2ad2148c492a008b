"""The OpenAPI schema as served: every error the API can answer, in the shape it has.

FastAPI documents a 422 as a list of validation errors and no other error; Arbiter answers
every error as ``{"detail": "..."}`` and any authenticated route may answer 400, 401, 403,
404, 422 or 503 (413 where a body is sent). Every string is documented as NUL-free, as the text
rules (app/text.py) hold it. A client generated from the schema, or schemathesis with every
check, then meets no surprise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

ERROR = "Error"
ERROR_SCHEMA = {
    "title": ERROR,
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
}
MEANING = {
    "400": "A request the rules refuse (the detail says which)",
    "401": "No valid API token",
    "403": "A role or project this token may not use",
    "404": "No such project, or an id that names nothing of this user's",
    "413": "The body is over its limit (ARBITER_MAX_JSON_KB, uploads ARBITER_MAX_UPLOAD_MB)",
    "422": "A malformed body or parameter, or one the rules refuse",
    "503": "The database is unavailable for a moment: retry after Retry-After",
}
NO_NUL = "^[^\\u0000]*$"
UNBOUNDED_STRING_KEYS = frozenset({"pattern", "enum", "const", "format"})


def install(app: FastAPI) -> None:
    """Serve ``app``'s generated schema with the errors documented, each operation titled by
    its docstring and each form body named by its operation (amended once)."""
    build: Callable[[], dict[str, Any]] = app.openapi
    amended = False

    def openapi() -> dict[str, Any]:
        nonlocal amended
        schema = build()
        if not amended:
            title_operations(schema)
            document_errors(schema)
            amended = True
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def title_operations(schema: dict[str, Any]) -> None:
    """FastAPI titles an operation without a summary after its function ("Put Gold") and
    names a form's schema after the operation's id
    ("Body_import_file_api_v1_projects__slug__batches_post"): title it by its docstring's
    first sentence and name its form "ImportFileForm"."""
    components = schema.get("components", {}).get("schemas", {})
    renamed: dict[str, str] = {}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            function = str(operation.get("operationId", "")).removesuffix(
                re.sub(r"\W", "_", path) + "_" + method
            )
            summary, description = operation.get("summary", ""), operation.get("description")
            if description and summary == function.replace("_", " ").title():
                operation["summary"] = summary_of(description)
            if f"Body_{operation.get('operationId')}" in components:
                renamed[f"Body_{operation['operationId']}"] = (
                    function.title().replace("_", "") + "Form"
                )
    for old, new in renamed.items():
        components[new] = {**components.pop(old), "title": new}

    def point(node: object) -> None:
        if isinstance(node, dict):
            name = str(node.get("$ref", "")).rpartition("/")[2]
            if name in renamed:
                node["$ref"] = "#/components/schemas/" + renamed[name]
            for value in node.values():
                point(value)
        elif isinstance(node, list):
            for value in node:
                point(value)

    point(schema.get("paths", {}))


def summary_of(description: str) -> str:
    """An operation's title: its docstring's first sentence, or clause (up to a ";"), without
    the closing full stop or reStructuredText's code quotes."""
    first = " ".join(description.split("\n\n")[0].split())
    for end in (". ", "; "):
        first = first.split(end)[0]
    return first.removesuffix(".").replace("``", "")


def document_errors(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR] = ERROR_SCHEMA
    if "HTTPValidationError" in components:
        components["HTTPValidationError"] = {**ERROR_SCHEMA, "title": "HTTPValidationError"}
    ref = {"$ref": f"#/components/schemas/{ERROR}"}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            _errors_of(operation, ref)
    _no_nul(schema)


def _errors_of(operation: dict[str, Any], ref: dict[str, str]) -> None:
    responses = operation.setdefault("responses", {})
    codes = ["400", "401", "403", "404", "422", "503"] + (
        ["413"] if "requestBody" in operation else []
    )
    for code in codes:
        entry = responses.setdefault(code, {"description": MEANING[code]})
        content = entry.setdefault("content", {}).setdefault("application/json", {})
        declared = content.get("schema")
        if declared is None:
            content["schema"] = ref
        elif declared != ref and "HTTPValidationError" not in str(declared):
            content["schema"] = {"anyOf": [declared, ref]}


def _no_nul(node: Any) -> None:
    """Every free string of the schema is documented NUL-free (the text rules refuse one)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not UNBOUNDED_STRING_KEYS & node.keys():
            node["pattern"] = NO_NUL
        for value in node.values():
            _no_nul(value)
    elif isinstance(node, list):
        for value in node:
            _no_nul(value)
