from django.urls import path

from . import views, wizard

app_name = "transfers"
urlpatterns = [
    path("<int:pk>/", views.transfer_detail, name="detail"),
    path("<int:pk>/accept/", views.transfer_accept_view, name="accept"),
    path("<int:pk>/reject/", views.transfer_reject_view, name="reject"),
    path("<int:pk>/withdraw/", views.transfer_withdraw_view, name="withdraw"),
    path("<int:pk>/summary.csv", views.transfer_summary_csv, name="summary_csv"),
    path("<int:pk>/summary.pdf", views.transfer_summary_pdf, name="summary_pdf"),
    path("new/", wizard.transfer_new, name="new"),
    path("retire/", wizard.retirement_new, name="retire"),
    path("new/<int:pk>/<slug:step>/", wizard.transfer_wizard, name="wizard"),
    path("<int:pk>/done/", wizard.transfer_done, name="done"),
    path("organizations/", wizard.organization_search, name="organization_search"),
    path("transactions.csv", views.transactions_csv, name="transactions_csv"),
]
