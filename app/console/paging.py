"""Pagination for console pages: at most ``PAGE_SIZE`` rows, links that keep the filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

PAGE_SIZE = 50
"""The most rows any console page shows at once."""


@dataclass
class Page:
    """One page of rows and how to reach the others."""

    rows: list[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    def url(self, number: int) -> str:
        """Give this page's URL with another page number, filters kept."""
        args = {k: v for k, v in request.args.items() if k != "page" and v != ""}
        args.update(request.view_args or {})
        return url_for(request.endpoint, page=number, **args)


def page_number() -> int:
    """Give the requested page number (1 when absent or not a positive number)."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


def paginate(db: Session, query: Select, size: int = PAGE_SIZE, scalars: bool = True) -> Page:
    """Run ``query`` for the requested page and count all its rows."""
    size = min(size, PAGE_SIZE)
    number = page_number()
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // size))
    number = min(number, pages)
    result = db.execute(query.limit(size).offset((number - 1) * size))
    rows = list(result.scalars() if scalars else result)
    return Page(rows=rows, number=number, size=size, total=total)
