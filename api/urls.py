from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .views import NoSuchOperation

app_name = "api"
urlpatterns = [
    path("v1/", include("api.v1_urls")),
    path("energytag/v1/", include("api.energytag_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The page and its start-up script as two requests: no inline script, so the CSP stays strict.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"", NoSuchOperation.as_view()),  # last: whatever else is asked under /api/
]
