import binascii
from urllib import parse

from django.conf import settings
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination

from utilities.parsing import positive_integer

CURSOR_TOKENS = {"o", "r", "p"}  # DRF's: offset, reverse, position


class ApiCursorPagination(CursorPagination):
    """Cursor pagination, the batches and transfers lists: steady pages however many rows come
    and go while a client reads, and no count. `?page_size=` from 1 to 1,000 (100 by default);
    any other value is a 400 naming it, and so is a `cursor` the API did not give."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    # Oldest first: a client reading to the last page also gets the rows added while it read. A
    # view may order otherwise with `ordering` on a subclass (a field that is unique and never
    # changes; decode_cursor reads a position as a primary key).
    ordering = "pk"
    schema_path = "/api/v1/batches/"  # the list's path, in the schema's examples (set by api.schema)

    def get_page_size(self, request) -> int:
        text = request.query_params.get(self.page_size_query_param)
        if text is None:
            return self.page_size
        size = positive_integer(text)  # ASCII digits only: "²" passes isdigit(), then fails in int()
        if size is None or size > self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Enter a whole number from 1 to {self.max_page_size:,}."]})
        return size

    def decode_cursor(self, request):
        """DRF's reading, with a cursor that is not one of ours a 400 naming it. DRF answers 404 for
        one it cannot decode, takes text that is not strict base64 or names none of its tokens as the
        first page, and a position that is not a primary key failed in the query (a 500)."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            text = binascii.a2b_base64(encoded.encode("ascii"), strict_mode=True).decode("ascii")
            tokens = parse.parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
            cursor = super().decode_cursor(request)
        except (exceptions.NotFound, ValueError):  # binascii.Error and UnicodeError are ValueErrors
            cursor = tokens = None
        if (cursor is None or not set(tokens) <= CURSOR_TOKENS or any(len(values) > 1 for values in tokens.values())
                or (cursor.position is not None and positive_integer(cursor.position) is None)):
            raise exceptions.ValidationError({self.cursor_query_param: [
                "This is not a cursor the API gave: follow a page's `next` or `previous` link as it is, or start "
                "again without a cursor."]})
        return cursor

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {"minimum": 1, "maximum": self.max_page_size, "default": self.page_size}
            if parameter["name"] == self.cursor_query_param:  # base64, as the API writes one
                parameter["schema"] |= {"pattern": "^[A-Za-z0-9+/]*={0,2}$"}
                parameter["description"] = ("Where the page starts: the `cursor` of a page's `next` or `previous` "
                                            "link, as it is (none: the first page).")
        return parameters

    def get_paginated_response_schema(self, schema):
        """What every page carries (`next` and `previous` null at the ends), with an example of each."""
        link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": link | {"description": "The next page; null on the last.",
                                "example": f"{settings.SITE_URL}{self.schema_path}?{self.cursor_query_param}=cD0xMDQy"},
                "previous": link | {"description": "The page before; null on the first.", "example": None},
                "results": schema,
            },
        }
