from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views import defaults

from portal import errors
from registry import views
from utilities.htmx import whole_page_for_htmx

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("healthz", views.healthz, name="healthz"),
    path("settings/", views.user_settings, name="settings"),
    path("security/two-factor/", views.two_factor, name="two-factor"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(
        template_name="registry/password_reset_sent.html"), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(
        template_name="registry/password_reset_confirm.html"), name="password_reset_confirm"),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(
        template_name="registry/password_reset_complete.html"), name="password_reset_complete"),
    path("organization/", views.organization_switch, name="organization-switch"),
    path("organization/members/", include("registry.urls")),
    path("organization/api-keys/", include("api.page_urls")),
    path("organization/activity/", views.activity, name="activity"),
    path("organization/webhooks/", include("webhooks.urls")),
    path("organization/billing/", include("billing.urls")),
    path("organization/activity.csv", views.activity_csv, name="activity_csv"),
    path("invitations/<str:token>/", views.invitation_open, name="invitation"),
    path("accounts/", include("accounts.urls")),
    path("certificates/", include("dashboard.urls")),
    path("generators/", include("certificates.generator_urls")),
    path("transfers/", include("transfers.urls")),
    path("transfers/mass/", include("mass_uploads.urls")),
    path("", include("retirements.urls")),  # under /transfers/, and the public /verify/ pages
    path("generation/", include("issuance.urls")),
    path("", include("matching.urls")),  # /matching/, and the public /verify/<reference>/hours/
    path("instructions/", include("instructions.urls")),
    path("statistics/", include("public_stats.urls")),  # public, no sign-in
    path("log/", include("publiclog.urls")),  # public, no sign-in: the log of retirements
    path("imports/", include("imports.urls")),  # other registries running this project: signed messages, no sign-in
    path("", include("programs.urls")),  # /organization/programs/ (participants) and /programs/ (regulators)
    path("api/", include("api.urls")),
    path("admin/", admin.site.urls),
]

handler400 = whole_page_for_htmx(errors.bad_request)
handler403 = whole_page_for_htmx(defaults.permission_denied)
handler404 = whole_page_for_htmx(defaults.page_not_found)
