from django.urls import path

from . import views_energytag as views

# The EnergyTag GC Registry API's core operations (api/views_energytag.py), version 1 of this face.
urlpatterns = [
    path("certificates/query", views.CertificateQuery.as_view(), name="energytag-query"),
    path("certificates/transfer", views.CertificateTransfer.as_view(), name="energytag-transfer"),
    path("certificates/cancel", views.CertificateCancel.as_view(), name="energytag-cancel"),
    path("certificates/claim", views.CertificateClaim.as_view(), name="energytag-claim"),
]
