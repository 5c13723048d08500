from django.urls import path

from . import pages

app_name = "api-keys"
urlpatterns = [
    path("", pages.api_keys, name="list"),
    path("<str:prefix>/revoke/", pages.api_key_revoke_confirm, name="revoke"),
]
