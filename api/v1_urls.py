from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import (
    views,
    views_billing,
    views_intervals,
    views_lookups,
    views_matching,
    views_public,
    views_public_log,
    views_transfers,
)

# Transfers, retirements and mass uploads (api/views_transfers.py).
router = SimpleRouter()
router.register("transfers", views_transfers.TransferViewSet, basename="transfer")
router.register("retirements", views_transfers.RetirementViewSet, basename="retirement")
router.register("mass-uploads", views_transfers.MassUploadViewSet, basename="mass-upload")
# Invoices and charges, read (api/views_billing.py).
router.register("invoices", views_billing.InvoiceViewSet, basename="invoice")

urlpatterns = [
    path("organization/", views.OrganizationView.as_view(), name="organization"),
    path("accounts/", views.AccountList.as_view(), name="accounts"),
    path("accounts/<str:id>/", views.AccountDetail.as_view(), name="account"),
    path("batches/", views.BatchList.as_view(), name="batches"),
    path("batches.csv", views.BatchDownload.as_view(), name="batches-csv"),
    path("batches/<str:id>/", views.BatchDetail.as_view(), name="batch"),
    # Granular generators' interval readings, for meter data systems (api/views_intervals.py).
    path("interval-readings/", views_intervals.IntervalReadingList.as_view(), name="interval-readings"),
    path("charges/", views_billing.ChargeList.as_view(), name="charges"),
    # Hourly matching (api/views_matching.py): consumption readings, and Match.
    path("consumption/", views_matching.ConsumptionCreate.as_view(), name="consumption"),
    path("matching/", views_matching.MatchCreate.as_view(), name="matching"),
    path("verify/<str:reference>/", views.Verification.as_view(), name="verify"),
    # Public, no key: the registry's statistics and approved generators (api/views_public.py).
    path("public/statistics/", views_public.Statistics.as_view(), name="public-statistics"),
    path("public/generators/", views_public.PublicGeneratorList.as_view(), name="public-generators"),
    # Public, no key: the log of retirements, its checkpoints and proofs (api/views_public_log.py).
    path("public/log/", views_public_log.PublicLog.as_view(), name="public-log"),
    path("public/log/checkpoint/", views_public_log.PublicLogCheckpoint.as_view(), name="public-log-checkpoint"),
    path("public/log/inclusion/", views_public_log.PublicLogInclusion.as_view(), name="public-log-inclusion"),
    re_path(rf"^public/log/retirements/(?P<reference>{views.ID})/inclusion/$",
            views_public_log.PublicLogRetirementInclusion.as_view(), name="public-log-retirement-inclusion"),
    path("public/log/consistency/", views_public_log.PublicLogConsistency.as_view(), name="public-log-consistency"),
    path("public/log/leaves/", views_public_log.PublicLogLeaves.as_view(), name="public-log-leaves"),
    # What a request may name (api/views_lookups.py).
    path("organizations/", views_lookups.RecipientList.as_view(), name="organizations"),
    path("retirement-options/", views_lookups.RetirementOptionList.as_view(), name="retirement-options"),
    path("tracking-systems/", views_lookups.TrackingSystemList.as_view(), name="tracking-systems"),
    *router.urls,
    re_path(rf"^retirements/(?P<reference>{views.ID})/statement\.pdf$",
            views_transfers.RetirementViewSet.as_view({"get": "statement"}), name="retirement-statement"),
]
