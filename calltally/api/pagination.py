"""How the API's lists come in pages."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination


class PagePagination(PageNumberPagination):
    """Configuration lists (sites, people…): numbered pages, ``?page_size=`` up to 1000."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class CallCursor(CursorPagination):
    """Calls: an opaque cursor over (start, id), so a page never repeats or skips a call while the
    Miner adds new ones, and no page counts the millions of rows before it."""

    ordering = ("start", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
