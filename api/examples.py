"""An example of every request body and every answer in the OpenAPI schema, one story throughout:
Prairie Wind Energy (MM00001) sends 250 certificates of batch 812 to Lakeshore Power Cooperative
(MM00002), which accepts them, and retires 100 of what stayed toward Minnesota's RES; moments in UTC,
as the API writes them. Each example is attached to the serializer that makes its body
(drf-spectacular then shows it on every operation the serializer answers, a list's example as a page
of it); tests/test_api_schema.py checks that every request and answer has one and that each is valid
against its schema. Problems' examples are api.schema's."""

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer

from billing import serializers as billing

from . import serializers as reads
from . import serializers_energytag as energytag
from . import serializers_intervals as intervals
from . import serializers_log as log
from . import serializers_matching as matching
from . import serializers_public as public
from . import serializers_transfers as bodies

MULTIPART = "multipart/form-data"

SENDER = {"id": "MM00001", "name": "Prairie Wind Energy"}
RECIPIENT = {"id": "MM00002", "name": "Lakeshore Power Cooperative"}
BATCH = {"id": 812, "serial_number": "M805-MN-01-2024-812B2E-1 to 39739", "serial_start": 1, "serial_end": 39739,
         "quantity": 39739, "status": "active", "account": "ACT-00001", "account_name": "Main active",
         "generator": "M805", "generator_name": "Prairie Ridge Wind", "fuel": "wind", "state": "MN",
         "vintage": "2024-01", "eligibilities": ["MN RES", "Green-e"], "issued_at": "2024-02-15T15:30:00Z",
         "origin": None}
TRANSFER = {
    "id": 1042, "type": "organization", "status": "pending", "sender": SENDER,
    "destination": {"type": "organization", "label": "Lakeshore Power Cooperative (MM00002)", "account": None,
                    "organization": RECIPIENT, "tracking_system": None, "recipient_name": "",
                    "recipient_account_ref": ""},
    "quantity": 250, "notes": "Spot sale", "submitted_at": "2025-03-04T16:15:00Z", "decided_at": None,
    "expires_at": "2025-04-03T16:15:00Z", "decision_note": "", "mass_upload": None}
CREATED_LINE = {"batch": 812, "quantity": 250, "moved": 1301, "remaining": 1302}
ITEM = {"batch": 1301, "serial_number": "M805-MN-01-2024-812B2E-1 to 250", "quantity": 250, "status": "pending",
        "source_batch": 812, "source_serial_number": "M805-MN-01-2024-812B2E-1 to 39739", "source_account": "ACT-00001"}
INITIATED = {"id": 5120, "kind": "transfer_initiated", "label": "Transfer initiated",
             "occurred_at": "2025-03-04T16:15:00Z", "actor": "trader@prairiewind.example",
             "organization": "MM00001", "note": "Spot sale"}
ACCEPTED = {"id": 5133, "kind": "transfer_accepted", "label": "Transfer accepted",
            "occurred_at": "2025-03-05T14:02:00Z", "actor": "trader@lakeshore.example",
            "organization": "MM00002", "note": ""}
RETIREMENT = {"reference": "NX53XXWDKA7CZ0JJC8AD", "option": "Minnesota RES", "compliance_period": 2025,
              "period_start": None, "period_end": None, "beneficiary": "City of Duluth", "private": False,
              "transfer": 1043, "retired_at": "2025-03-06T20:20:00Z", "account": "ACT-00004", "quantity": 100,
              "notes": "", "organization": "MM00002"}
CSV_FILE = ("Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"
            "M805-MN-01-2024-812B2E-1 to 39739,250,MM00002,,Spot sale\r\n")
BATCHES_CSV = ("Serial Number,Quantity,Account ID,Account,Generator ID,Generator,Fuel,State,Vintage,Eligibilities,"
               "Issued on,Status\r\n"
               "M805-MN-01-2024-812B2E-1 to 39739,39739,ACT-00001,Main active,M805,Prairie Ridge Wind,Wind,MN,"
               "01/2024,MN RES; Green-e,2024-02-15,active\r\n")
UPLOAD = {"id": 77, "kind": "transfer", "status": "completed", "filename": "march-sales.csv", "size": 94,
          "sha256": "55d0fd5f3bc01490bc1db7f7c02c0731d079814947f18fe4f6c914587bd9bf79", "row_count": 1,
          "error_count": 0, "transfers": [1042], "created_at": "2025-03-04T16:14:00Z",
          "finished_at": "2025-03-04T16:14:02Z"}


def example(serializer, *examples: OpenApiExample) -> None:
    extend_schema_serializer(examples=list(examples))(serializer)


# --- requests ---------------------------------------------------------------------------------

example(bodies.TransferCreateSerializer,
        OpenApiExample("To another organization", value={
            "lines": [{"batch": 812, "quantity": 250}], "notes": "Spot sale",
            "destination": {"type": "organization", "organization": "MM00002"}}),
        OpenApiExample("To one of your accounts", value={
            "lines": [{"batch": 812, "quantity": 1000}, {"batch": 815, "quantity": 40}],
            "destination": {"type": "internal", "account": "ACT-00002"}}),
        OpenApiExample("Out to another tracking system", value={
            "lines": [{"batch": 812, "quantity": 500}], "notes": "Export for a WECC buyer",
            "destination": {"type": "export", "tracking_system": "WREGIS", "recipient_name": "Sierra Power",
                            "recipient_account_ref": "SP-1182"}}))
example(bodies.TransferAcceptSerializer, OpenApiExample("Into an account", value={"account": "ACT-00031"}))
example(bodies.TransferRejectSerializer, OpenApiExample("With a reason", value={"note": "Wrong vintage"}))
example(bodies.RetirementCreateSerializer,
        OpenApiExample("Toward a state RPS", value={
            "lines": [{"batch": 1302, "quantity": 100}], "account": "ACT-00004", "option": "Minnesota RES",
            "compliance_period": 2025, "beneficiary": "City of Duluth"}))
example(bodies.MassUploadCreateSerializer,
        OpenApiExample("A file of transfers", media_type=MULTIPART, value={"kind": "transfer", "file": CSV_FILE}))
example(bodies.MassUploadReleaseSerializer,
        OpenApiExample("Process it", media_type=MULTIPART, value={"process": True}),
        OpenApiExample("Process it (JSON)", value={"process": True}))

example(matching.ConsumptionCreateSerializer, OpenApiExample("Two hours of a site", value={"readings": [
    {"site": "METER-0042", "start": "2025-03-03T00:00:00-06:00", "end": "2025-03-03T01:00:00-06:00", "wh": 1250000},
    {"site": "METER-0042", "start": "2025-03-03T01:00:00-06:00", "end": "2025-03-03T02:00:00-06:00", "wh": 1180500}]}))
example(matching.MatchCreateSerializer, OpenApiExample("One day of a site", value={
    "site": "METER-0042", "account": "ACT-00004", "first_day": "2025-03-03", "last_day": "2025-03-03"}))

example(intervals.IntervalReadingsCreateSerializer, OpenApiExample("Two hours of a granular generator", value={
    "readings": [{"generator": "H100", "interval_start": "2026-11-03T14:00:00-06:00",
                  "interval_end": "2026-11-03T15:00:00-06:00", "wh": 41250000},
                 {"generator": "H100", "interval_start": "2026-11-03T15:00:00-06:00",
                  "interval_end": "2026-11-03T16:00:00-06:00", "wh": 38900000}]}))

example(energytag.TransferActionSerializer, OpenApiExample("Part of an hour to another organization", value={
    "source_id": "ACT-00001", "granular_certificate_bundle_ids": [9120], "certificate_quantity": 25000000,
    "target_id": "MM00002"}))
example(energytag.CancelActionSerializer, OpenApiExample("An hour for a 24/7 claim", value={
    "source_id": "ACT-00001", "granular_certificate_bundle_ids": [9121], "target_id": "ACT-00004",
    "retirement_option": "24/7 CFE claim", "beneficiary": "City of Duluth", "compliance_period": 2026}))
example(energytag.ClaimActionSerializer, OpenApiExample("The cancelled hour", value={
    "source_id": "ACT-00004", "granular_certificate_bundle_ids": [9133], "beneficiary": "City of Duluth"}))

# --- answers ----------------------------------------------------------------------------------

example(matching.ConsumptionCreatedSerializer, OpenApiExample("Recorded", value={"recorded": 2}))
example(matching.MatchingStatementSerializer, OpenApiExample("A day, its first hour matched", value={
    "reference": "NX53XXWDKA7CZ0JJC8AE", "site": "METER-0042", "matched_at": "2025-03-06T20:20:00Z",
    "consumption_wh": 2430500, "matched_wh": 1250000,
    "hours": [{"start": "2025-03-03T06:00:00Z", "end": "2025-03-03T07:00:00Z", "consumption_wh": 1250000,
               "matched_before_wh": 0, "matched_wh": 1250000,
               "certificates": [{"serial_number": "H100-MN-20250303T0600Z-1A9ED0-1 to 1250000", "quantity": 1250000,
                                 "generator": "H100"}]},
              {"start": "2025-03-03T07:00:00Z", "end": "2025-03-03T08:00:00Z", "consumption_wh": 1180500,
               "matched_before_wh": 0, "matched_wh": 0, "certificates": []}],
    "digest": "9f2c6b0d0e3a4c1f8b7a6d5e4c3b2a19081726354f6e5d4c3b2a1908172635a",
    "verification_url": "https://registry.example/verify/NX53XXWDKA7CZ0JJC8AE/hours/"}))

GC_BUNDLE = {
    "id": 9120, "issuance_id": "H100-MN-20261103T2000Z-1A9ED0", "certificate_bundle_status": "Active",
    "account_id": "ACT-00001", "certificate_bundle_id_range_start": 1, "certificate_bundle_id_range_end": 41250000,
    "bundle_quantity": 41250000, "energy_carrier": "Electricity", "energy_source": "Wind", "face_value": 1,
    "device_id": "H100", "device_name": "Prairie Ridge Wind", "device_capacity": 50000000, "device_location": "MN",
    "production_starting_interval": "2026-11-03T20:00:00Z", "production_ending_interval": "2026-11-03T21:00:00Z",
    "expiry_datestamp": "2028-11-03T21:00:00Z", "issuing_body": "Midwest Renewable Energy Registry",
    "emissions_factor_production_device": 11.5, "emissions_factor_source": "IPCC 2014 lifecycle median"}
example(energytag.QueryResultSerializer, OpenApiExample("An hour's bundle", value={
    "granular_certificate_bundles": [GC_BUNDLE], "total_certificate_volume": 41250000, "truncated": False}))
example(energytag.ActionResultSerializer,
        OpenApiExample("A transfer, pending", value={
            "id": 1050, "action_type": "transfer", "status": "pending", "source_id": "ACT-00001",
            "target_id": "MM00002", "granular_certificate_bundle_ids": [9140], "certificate_quantity": 25000000,
            "action_request_datetime": "2026-11-04T15:00:00Z", "beneficiary": None, "retirement_reference": None}),
        OpenApiExample("A cancellation", value={
            "id": 1051, "action_type": "cancel", "status": "complete", "source_id": "ACT-00001",
            "target_id": "ACT-00004", "granular_certificate_bundle_ids": [9121], "certificate_quantity": 38900000,
            "action_request_datetime": "2026-11-04T15:05:00Z", "beneficiary": "City of Duluth",
            "retirement_reference": "NX53XXWDKA7CZ0JJC8AD"}))
example(energytag.ClaimResultSerializer, OpenApiExample("The claim", value={"claims": [{
    "granular_certificate_bundle_id": 9121, "retirement_reference": "NX53XXWDKA7CZ0JJC8AD",
    "beneficiary": "City of Duluth", "cancelled_at": "2026-11-04T15:05:00Z",
    "verification_url": "https://registry.example/verify/NX53XXWDKA7CZ0JJC8AD/"}]}))

example(intervals.IntervalReadingsCreatedSerializer, OpenApiExample("Two hours recorded", value={
    "readings": 2, "wh": 80150000,
    "months": [{"generator": "H100", "month": "2026-11", "mwh": "912.440", "status": "submitted"}]}))
example(intervals.IntervalReadingSerializer,
        OpenApiExample("An hour issued", value={
            "generator": "H100", "interval_start": "2026-11-03T20:00:00Z", "interval_end": "2026-11-03T21:00:00Z",
            "wh": 41250000, "status": "issued", "certificate": "H100-MN-20261103T2000Z-1A9ED0",
            "submitted_at": "2026-11-03T21:05:12Z"}),
        OpenApiExample("An hour submitted", value={
            "generator": "H100", "interval_start": "2026-11-03T21:00:00Z", "interval_end": "2026-11-03T22:00:00Z",
            "wh": 38900000, "status": "submitted", "certificate": None, "submitted_at": "2026-11-03T22:05:08Z"}))

example(reads.OrganizationSerializer, OpenApiExample("An organization", value={**SENDER, "status": "active"}))
example(reads.AccountSerializer, OpenApiExample("An active account", value={
    "id": "ACT-00001", "name": "Main active", "type": "active", "status": "open",
    "balances": {"active": 2663194, "pending": 3009, "retired": 0}}))
IMPORTED_BATCH = BATCH | {
    "id": 1400, "serial_number": "MRETS-123-MI-01-2024-9C1F0A-1 to 100", "serial_end": 100, "quantity": 100,
    "account": "ACT-00031", "account_name": "Lakeshore main", "generator": "G00042", "generator_name": "Thumb Wind",
    "state": "MI", "eligibilities": ["MI RPS"], "issued_at": "2025-03-04T16:15:00Z",
    "origin": {"tracking_system": "MRETS", "tracking_system_name": "Midwest Renewable Energy Tracking System",
               "original_serial": "MIRECS-123-MI-01-2024-77-1 to 100"}}
example(reads.BatchSerializer, OpenApiExample("A batch", value=BATCH),
        OpenApiExample("A batch imported from another tracking system", value=IMPORTED_BATCH))
example(reads.BatchDetailSerializer,
        OpenApiExample("A batch", value=BATCH | {"replaced_by": []}),
        OpenApiExample("A batch a partial move replaced", value=BATCH | {"status": "superseded",
                                                                        "replaced_by": [1301, 1302]}))
# --- the public log: a log of 5 leaves, the retirement above at index 1 (its record's digest) -----

LOG_ORIGIN = "registry.example/log"
CHECKPOINT = {
    "origin": LOG_ORIGIN, "size": 5, "root_hash": "yg45F8kAxQNeoGABovd6XpS1UlZaI3ME49np8lnWDfs=",
    "signed_at": "2025-03-06T20:21:00Z",
    "note": "registry.example/log\n5\nyg45F8kAxQNeoGABovd6XpS1UlZaI3ME49np8lnWDfs=\n\n\u2014 registry.example/log "
            "utQH8IrwQWydd1Ojqn4uhZShTQViR7vwT1pFx5eTE7WmXfYXQENgDbzNfMRwwf5Yrzx5uchtRb0opddHmUFLzloIQQE=\n"}
VERIFIER_KEY = "registry.example/log+bad407f0+AWrK8jNuEXWCCnpohz3pFrv7+2gE85wphWGmj04RphKm"
LEAF = {"entry": "p3hyuikVFAqeUDTJMMPJSfP68dt9/DbUhqurfV9ZDrY=",
        "leaf_hash": "sRD19qlc0TWPdO/G4zLuC4E5Wp6ouAHXzjd7mMPuni4="}
INCLUSION = ["WIpPAJCmS/x71jrqoS05Byof1XNqo+BSKAu2gImroew=", "l2wpyOT6BArMU8WzhmUtXjoSfziFMkR3giX+7Z5SUu8=",
             "IhHIa4gdJnUAY64TeEUkXdMwHBnuPVLKRHuA3HESETI="]
LOG_PLACE = {"leaf_index": 1, **LEAF, "origin": LOG_ORIGIN, "verifier_key": VERIFIER_KEY, "auditors_page": "/log/",
             "checkpoint": CHECKPOINT, "proof": INCLUSION, "verified": True}
# Taken by the log, not yet in a signed checkpoint.
PRIVATE_LOG_PLACE = LOG_PLACE | {"leaf_index": 0, "entry": "4A1GFgUczln1AJD6+rsNm1Fy5QtyA3p6hcYDsRcldkg=",
                                 "leaf_hash": "WIpPAJCmS/x71jrqoS05Byof1XNqo+BSKAu2gImroew=", "checkpoint": None,
                                 "proof": None, "verified": None}
example(log.LogSerializer, OpenApiExample("The log", value={"origin": LOG_ORIGIN, "verifier_key": VERIFIER_KEY,
                                                            "size": 5}))
example(log.CheckpointSerializer, OpenApiExample("The latest checkpoint", value=CHECKPOINT))
example(log.InclusionProofSerializer, OpenApiExample("Leaf 1 in a tree of 5", value={
    "leaf_index": 1, "tree_size": 5, **LEAF, "proof": INCLUSION, "root_hash": CHECKPOINT["root_hash"]}))
example(log.ConsistencyProofSerializer, OpenApiExample("From 3 leaves to 5", value={
    "first": 3, "second": 5, "proof": ["I37MnO+ukedzU74PCNjnkvv4EQDtzp3mOSTasvPhLcg=",
                                       "DwpZfQTwZXbHqrqrHLv6QQdA9/oG4oMqoUmhrL2rN1I=",
                                       "OnF+L8W3rpJkHzBy7wHuQ236DTsWmT+94EfW9wDNUhM=",
                                       "IhHIa4gdJnUAY64TeEUkXdMwHBnuPVLKRHuA3HESETI="],
    "first_root_hash": "BLqNSm0Vxg69+oKDy+DQGxfngGyaFmdaPJTbnGZsgno=", "second_root_hash": CHECKPOINT["root_hash"]}))
example(log.LeavesSerializer, OpenApiExample("The first two leaves", value={"start": 0, "end": 2, "leaves": [
    {"index": 0, "entry": "4A1GFgUczln1AJD6+rsNm1Fy5QtyA3p6hcYDsRcldkg=",
     "leaf_hash": "WIpPAJCmS/x71jrqoS05Byof1XNqo+BSKAu2gImroew=", "reference": "7QK2M9XW4PZC1B8RTD3F"},
    {"index": 1, **LEAF, "reference": "NX53XXWDKA7CZ0JJC8AD"}]}))


example(reads.VerificationSerializer, OpenApiExample("A public retirement", value={
    "reference": "NX53XXWDKA7CZ0JJC8AD", "valid": True, "private": False,
    "record": {"registry": "Midwest Renewable Energy Registry", "reference": "NX53XXWDKA7CZ0JJC8AD",
               "retired_at": "2025-03-06T20:20:00+00:00", "organization": {"name": "Prairie Wind Energy",
                                                                           "id": "MM00001"},
               "option": {"name": "Minnesota RES", "type": "State RPS", "reason": "Compliance",
                          "state_or_province": "MN"},
               "compliance_period": 2025, "reporting_period": {"start": None, "end": None},
               "beneficiary": "City of Duluth",
               "batches": [{"serial_number": "M805-MN-01-2024-812B2E-251 to 350", "quantity": 100,
                            "generator": {"id": "M805", "name": "Prairie Ridge Wind"}, "fuel": "Wind",
                            "location": "MN", "vintage": "01/2024", "eligibilities": "MN RES; Green-e"}],
               "total_quantity": 100},
    "digest": {"algorithm": "SHA-256",
               "canonical_form": "JSON, keys sorted, no whitespace between tokens, UTF-8 (RFC 8259)",
               "value": "a77872ba2915140a9e5034c930c3c949f3faf1db7dfc36d486abab7d5f590eb6"},
    "log": LOG_PLACE}),
        OpenApiExample("A private retirement", value={"reference": "7QK2M9XW4PZC1B8RTD3F", "valid": True,
                                                      "private": True, "log": PRIVATE_LOG_PLACE}))
example(bodies.TransferSerializer, OpenApiExample("A pending transfer", value=TRANSFER))
example(bodies.TransferCreatedSerializer, OpenApiExample("A transfer to another organization", value={
    **TRANSFER, "lines": [CREATED_LINE]}))
example(bodies.TransferDetailSerializer,
        OpenApiExample("A pending transfer", value={**TRANSFER, "item_count": 1, "items": [ITEM],
                                                    "history": [INITIATED], "retirement": None}),
        OpenApiExample("An accepted transfer", value={
            **TRANSFER, "status": "complete", "decided_at": "2025-03-05T14:02:00Z", "expires_at": None,
            "item_count": 1, "items": [ITEM | {"status": "active"}], "history": [INITIATED, ACCEPTED],
            "retirement": None}))
example(bodies.RetirementSerializer, OpenApiExample("A retirement", value=RETIREMENT))
example(bodies.RetirementCreatedSerializer, OpenApiExample("A retirement", value={
    **RETIREMENT, "lines": [{"batch": 1302, "quantity": 100, "moved": 1310, "remaining": 1311}]}))
example(bodies.MassUploadSerializer,
        OpenApiExample("Applied", value=UPLOAD),
        OpenApiExample("Queued", value=UPLOAD | {"status": "queued", "row_count": None, "transfers": [],
                                                  "finished_at": None}))
example(bodies.MassUploadErrorsSerializer, OpenApiExample("A failed upload", value={
    "upload": 78, "status": "failed",
    "errors": [{"row": 3, "column": "A (Serial Number)", "value": "M805-MN-01-2024-812B2E-1 to 39739",
                "message": "No batch has this serial number. If you downloaded the list before some of it moved, "
                           "download the Active certificates again."}]}))


# --- billing: Prairie Wind Energy's invoice of February 2025 and its line; March's charges so far ---

INVOICE = {
    "number": 41, "reference": "INV-000041", "period_start": "2025-02-01", "period_end": "2025-03-01",
    "issued_at": "2025-03-01T06:30:00Z", "due_on": "2025-03-31", "currency": "USD", "total": "180.00",
    "balance": "180.00", "status": "due", "bill_to": "Prairie Wind Partners (MM00001)\nAda Lovelace\nada@example.org",
}
CHARGE = {"id": 9051, "kind": "issuance", "description": "10,000 RECs × $0.02, first 1,000 of 2025 free",
          "occurred_at": "2025-02-15T15:30:00Z", "year": 2025, "quantity": "10000", "free_quantity": "1000",
          "unit_price": "0.020000", "amount": "180.00", "currency": "USD", "event": 88120, "invoice": "INV-000041",
          "credited": None}
example(billing.InvoiceSerializer, OpenApiExample("An invoice due", value=INVOICE),
        OpenApiExample("An invoice paid", value=INVOICE | {"balance": "0.00", "status": "paid"}))
example(billing.InvoiceDetailSerializer, OpenApiExample("An invoice with its line", value={
    **INVOICE, "line_count": 1, "lines": [CHARGE]}))
example(billing.ChargeSerializer,
        OpenApiExample("A line of an invoice", value=CHARGE),
        OpenApiExample("A credit of the current period", value=CHARGE | {
            "id": 9377, "kind": "credit", "description": "Credit: 500 RECs voided × $0.02, charged on their "
                                                         "issuance of 2025-02-15",
            "occurred_at": "2025-03-03T17:00:00Z", "quantity": "500", "free_quantity": "0", "amount": "-10.00",
            "event": 90144, "invoice": None, "credited": 9051}))


# --- webhooks: what the registry sends ---------------------------------------------------------

# The transfer as the API answers it (TRANSFER), with its first items, its retirement and its page.
WEBHOOK_TRANSFER = {**TRANSFER, "item_count": 1, "items": [ITEM], "retirement": None,
                    "url": "https://registry.example/transfers/1042/?organization=MM00001"}
DECIDED = {"expires_at": None, "items": [ITEM | {"status": "active"}]}
# Each event type's transfer as its event tells it (the organization told: the sender, MM00001).
WEBHOOK_TRANSFERS = {
    "transfer.pending": {},
    "transfer.accepted": DECIDED | {
        "status": "complete", "decided_at": "2025-03-05T14:02:00Z",
        "destination": TRANSFER["destination"] | {"account": {"id": "ACT-00031", "name": "Lakeshore main"}}},
    "transfer.rejected": DECIDED | {"status": "rejected", "decided_at": "2025-03-05T14:02:00Z",
                                    "decision_note": "Wrong vintage"},
    "transfer.withdrawn": DECIDED | {"status": "withdrawn", "decided_at": "2025-03-04T17:00:00Z"},
    "transfer.expired": DECIDED | {"status": "expired", "decided_at": "2025-04-03T16:15:00Z"},
    "retirement.created": {
        "id": 1043, "type": "retirement", "status": "complete", "quantity": 100, "notes": "",
        "destination": {"type": "retirement", "label": "Retirements (ACT-00004)",
                        "account": {"id": "ACT-00004", "name": "Retirements"}, "organization": None,
                        "tracking_system": None, "recipient_name": "", "recipient_account_ref": ""},
        "submitted_at": "2025-03-06T20:20:00Z", "decided_at": "2025-03-06T20:20:00Z", "expires_at": None,
        "items": [ITEM | {"batch": 1310, "serial_number": "M805-MN-01-2024-812B2E-251 to 350", "quantity": 100,
                          "status": "retired", "source_batch": 1302,
                          "source_serial_number": "M805-MN-01-2024-812B2E-251 to 39739"}],
        "url": "https://registry.example/transfers/1043/?organization=MM00001",
        "retirement": {key: RETIREMENT[key] for key in ("reference", "option", "compliance_period", "period_start",
                                                        "period_end", "beneficiary", "private")}},
    "export.decided": DECIDED | {
        "type": "export", "status": "complete", "decided_at": "2025-03-07T15:00:00Z",
        "destination": {"type": "export", "label": "Sierra Power at Western Renewable Energy Generation "
                                                   "Information System, account SP-1182",
                        "account": None, "organization": None, "tracking_system": "WREGIS",
                        "recipient_name": "Sierra Power", "recipient_account_ref": "SP-1182"},
        "items": [ITEM | {"status": "exported"}]},
}
# An import by conversion, as its recipient (MM00002) is told: sent by the source's stand-in organization.
IMPORTED = {
    "id": 1050, "type": "import", "sender": {"id": "MM00007", "name": "Midwest Renewable Energy Tracking System "
                                                                       "(imports)"},
    "destination": {"type": "import", "label": "Lakeshore Power Cooperative (MM00002)",
                    "account": None, "organization": RECIPIENT, "tracking_system": "MRETS", "recipient_name": "",
                    "recipient_account_ref": ""},
    "quantity": 100, "notes": "Retired in M-RETS for Lakeshore", "expires_at": None,
    "items": [ITEM | {"batch": 1400, "serial_number": "MRETS-123-MI-01-2024-9C1F0A-1 to 100", "quantity": 100,
                      "status": "pending", "source_batch": 1400,
                      "source_serial_number": "MRETS-123-MI-01-2024-9C1F0A-1 to 100", "source_account": "ACT-00040"}],
    "url": "https://registry.example/transfers/1050/?organization=MM00002"}
WEBHOOK_TRANSFERS |= {
    "import.recorded": IMPORTED,
    "import.accepted": IMPORTED | {
        "status": "complete", "decided_at": "2025-03-05T14:02:00Z",
        "destination": IMPORTED["destination"] | {"account": {"id": "ACT-00031", "name": "Lakeshore main"}},
        "items": [IMPORTED["items"][0] | {"status": "active"}]},
    "import.rejected": IMPORTED | {"status": "rejected", "decided_at": "2025-03-05T14:02:00Z",
                                   "decision_note": "Not ours", "items": [IMPORTED["items"][0] | {"status": "voided"}]},
}
WEBHOOK_UPLOAD = {"id": 77, "kind": "transfer", "status": "completed", "filename": "march-sales.csv", "row_count": 1,
                  "error_count": 0, "transfer_ids": [1042], "finished_at": "2025-03-04T16:14:02Z",
                  "url": "https://registry.example/transfers/mass/77/?organization=MM00001"}


# --- the public statistics -------------------------------------------------------------------

example(public.StatisticsSerializer, OpenApiExample("Certificates retired by month", value={
    "activity": "retired", "by": "month", "total": "12450.25",
    "rows": [{"key": "2025-01", "label": "01/2025", "quantity": "4200"},
             {"key": "2025-02", "label": "02/2025", "quantity": "3150.25"},
             {"key": "2025-03", "label": "03/2025", "quantity": "5100"}]}))
example(public.PublicGeneratorSerializer, OpenApiExample("An approved wind farm", value={
    "id": "M805", "name": "Prairie Ridge Wind", "fuel": "wind", "technology": "onshore_wind", "state": "MN",
    "capacity_mw": "150.00", "commissioned_on": "2015-06-01"}))


WEBHOOK_ROLLBACK = {
    "id": 812, "generator": "M805", "period": "01/2025", "mwh": "1250.400", "quantity": 1250,
    "serial_number": "M805-MN-01-2025-4F2A9C-1 to 1250", "account": "ACT-00031",
    "reason": "The meter read 10 times high in January (the utility's letter of 3 March).",
    "rolled_back_at": "2025-03-04T16:15:00Z", "url": "https://registry.example/generation/issuances/812/?organization=MM00001",
}
WEBHOOK_VOIDED = {
    "quantity": 400, "reason": "Prior period adjustment of M805 01/2025: 400 MWh less.",
    "batches": [{"id": 9001, "serial_number": "M805-MN-01-2025-4F2A9C-1 to 400", "quantity": 400,
                 "account": "ACT-00031"}],
}


WEBHOOK_CORRECTIONS = [{
    "id": 77, "generator": "M805", "period": "01/2025", "mwh_before": "1250.400", "mwh_after": "1262.900",
    "difference": "12.500", "quantity": 12, "serial_number": "M805-MN-01-2025-9B1C07-1 to 12", "debit_paid": 0,
    "shortfall": 0, "voided": 0, "owed": 0, "carry_out": "0.900", "note": "The meter statement of 3 March checked.",
    "decided_at": "2025-03-04T16:15:00Z", "url": "https://registry.example/generation/issuances/812/?organization=MM00001",
}]

WEBHOOK_INVOICE = INVOICE | {"url": "https://registry.example/organization/billing/?organization=MM00001"}


def webhook_example(event_type: str) -> dict:
    """A delivery's body of `event_type` (api.schema's webhooks show it)."""
    if event_type == "upload.finished":
        data = {"upload": WEBHOOK_UPLOAD}
    elif event_type == "issuance.rolled_back":
        data = {"issuance": WEBHOOK_ROLLBACK}
    elif event_type == "certificates.voided":
        data = {"voided": WEBHOOK_VOIDED}
    elif event_type == "issuance.adjusted":
        data = {"corrections": WEBHOOK_CORRECTIONS}
    elif event_type.startswith("invoice."):
        data = {"invoice": WEBHOOK_INVOICE | {"status": {"invoice.paid": "paid", "invoice.overdue": "overdue"}.get(
            event_type, "due"), "balance": "0.00" if event_type == "invoice.paid" else "180.00"}}
    else:
        data = {"transfer": WEBHOOK_TRANSFER | WEBHOOK_TRANSFERS[event_type]}
    return {"id": "0b9f6f2e-8a4c-4f63-9d6e-2f1c5a7e3b10", "type": event_type,
            "created_at": "2025-03-04T16:15:01Z", "organization": "MM00001", "data": data}
