from django.urls import path

from . import views

app_name = "retirements"
# Included at the root: the addresses are those the retirements had under /transfers/, and the
# public /verify/ pages.
urlpatterns = [
    path("transfers/<int:pk>/statement.pdf", views.retirement_statement_pdf, name="statement_pdf"),
    path("transfers/<int:pk>/privacy/", views.retirement_privacy, name="privacy"),
    path("transfers/retirements.csv", views.retirements_csv, name="csv"),
    path("transfers/retirements/report/", views.retirement_annual_report, name="annual_report"),
    path("transfers/retirements/report.csv", views.retirement_annual_report_csv, name="annual_report_csv"),
    # Public, no sign-in: a retirement's proof, found only by its reference.
    path("verify/<str:reference>/", views.retirement_verify, name="verify"),
    path("verify/<str:reference>.json", views.retirement_verify_json, name="verify_json"),
]
