from django.urls import path

from . import views

app_name = "billing"
urlpatterns = [
    path("", views.billing, name="billing"),
    path("contact/", views.billing_contact, name="contact"),
    path("invoices/<int:number>.pdf", views.invoice_pdf_download, name="invoice_pdf"),
    path("invoices/<int:number>.csv", views.invoice_csv_download, name="invoice_csv"),
]
