from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from registry import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("healthz", views.healthz, name="healthz"),
    path("settings/", views.user_settings, name="settings"),
    path("security/two-factor/", views.two_factor, name="two-factor"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organization/", views.organization_switch, name="organization-switch"),
    path("organization/members/", include("registry.urls")),
    path("invitations/<str:token>/", views.invitation_open, name="invitation"),
    path("accounts/", include("accounts.urls")),
    path("certificates/", include("certificates.urls")),
    path("transfers/", include("transfers.urls")),
    path("admin/", admin.site.urls),
]
