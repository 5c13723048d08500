from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    """Cursor pagination, the batches and transfers lists: steady pages however many rows come
    and go while a client reads, and no count. `?page_size=` up to 1,000 (100 by default)."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    # Oldest first: a client reading to the last page also gets the rows added while it read. A
    # view may order otherwise with `ordering` on a subclass (a field that is unique and never changes).
    ordering = "pk"
