from django.urls import path, re_path

from . import pages

app_name = "api-keys"
urlpatterns = [
    path("", pages.api_keys, name="list"),
    # A key's prefix is letters and digits (djangorestframework-api-key's); anything else is a 404,
    # not a query PostgreSQL refuses (a NUL).
    re_path(r"^(?P<prefix>[A-Za-z0-9]+)/revoke/$", pages.api_key_revoke_confirm, name="revoke"),
]
