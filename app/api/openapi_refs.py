"""The small builders every part of the OpenAPI document uses: references and errors."""

from __future__ import annotations

from typing import Any

_REF = "#/components/"


def _ref(kind: str, name: str) -> dict[str, str]:
    """Point at a component: ``_ref("schemas", "Error")``."""
    return {"$ref": f"{_REF}{kind}/{name}"}


def _error(description: str) -> dict[str, Any]:
    """An error response carrying the API's error body."""
    return {"description": description,
            "content": {"application/json": {"schema": _ref("schemas", "Error")}}}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}
