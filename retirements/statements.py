"""A retirement's public proof: its record (what the statement and the verification page show,
nothing else: no account ids, no other holdings), that record's SHA-256 digest, and the statement
PDF, which prints the digest and a QR code of the verification page's address.

The digest is of the record's canonical form: JSON with the keys sorted, no spaces, UTF-8. Anyone
holding the record (the verification page's .json gives it) recomputes it with, e.g.,
`python3 -c "import hashlib, json, sys; r = json.load(sys.stdin)['record']; print(hashlib.sha256(
json.dumps(r, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode()).hexdigest())"`
and matches it against the statement's; a changed record gives another digest."""

import datetime
import hashlib
import io
import json

import segno
from django.conf import settings
from django.urls import reverse

from certificates.models import origin_text
from transfers.summaries import (
    SummaryCertificate,
    SummaryPDF,
    summary_batches,
    summary_batches_of,
    summary_document,
)
from utilities.display import datetime_text

from .models import Retirement, counts_toward_text
from .proofs import retirement_log_proof

CANONICAL_FORM = "JSON, keys sorted, no whitespace between tokens, UTF-8 (RFC 8259)"


def verification_url(retirement: Retirement) -> str:
    return settings.SITE_URL + reverse("retirements:verify", args=[retirement.reference])


def retirement_record(retirement: Retirement) -> dict:
    """The public record of a retirement: every fact its statement prints, as plain JSON values; as
    it was first published once frozen (Retirement.record), so that a renamed organization or
    generator changes neither it nor its digest."""
    if retirement.record is not None:
        return retirement.record
    return _record(retirement, summary_batches(retirement.transfer))


def retirement_records(retirements: list[Retirement]) -> dict[int, dict]:
    """retirement_record of each of `retirements` (by transfer id), the batches of those not frozen
    read in one query."""
    records = {retirement.pk: retirement.record for retirement in retirements if retirement.record is not None}
    live = [retirement for retirement in retirements if retirement.record is None]
    batches = summary_batches_of([retirement.pk for retirement in live]) if live else {}
    return records | {retirement.pk: _record(retirement, batches[retirement.pk]) for retirement in live}


def _record(retirement: Retirement, summary) -> dict:
    transfer, option = retirement.transfer, retirement.option
    batches = [{"serial_number": serial_number, "quantity": quantity,
                "generator": {"id": certificate.generator_code, "name": certificate.generator_name},
                "fuel": certificate.fuel, "location": certificate.state, "vintage": certificate.vintage,
                "eligibilities": certificate.eligibilities,
                # Only an imported certificate's batch has it: every other record, and its digest, stay as they were.
                **({"origin": {"tracking_system": certificate.tracking_system,
                               "original_serial": certificate.original_serial}} if certificate.origin else {})}
               for certificate, serial_number, quantity in summary]
    return {
        "registry": settings.REGISTRY_NAME,
        "reference": retirement.reference,
        "retired_at": transfer.submitted_at.astimezone(datetime.UTC).isoformat(timespec="seconds"),
        "organization": {"name": transfer.organization.name, "id": transfer.organization.public_id},
        "option": {"name": option.name, "type": option.get_type_display(), "reason": option.get_reason_display(),
                   "state_or_province": option.state},
        "compliance_period": retirement.compliance_period,
        "reporting_period": {"start": retirement.period_start.isoformat() if retirement.period_start else None,
                             "end": retirement.period_end.isoformat() if retirement.period_end else None},
        "beneficiary": retirement.beneficiary,
        "batches": batches,
        "total_quantity": sum(batch["quantity"] for batch in batches),
    }


def record_digest(record: dict) -> str:
    """SHA-256 of the record's canonical form (CANONICAL_FORM), as 64 hexadecimal digits."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verification_record(retirement: Retirement) -> dict:
    """What /verify/<reference>.json and the API answer: that the reference is valid, its place in
    the public log (`log`: its leaf, the checkpoint and the inclusion proof; null until the log has
    taken it), and for a public retirement its record and the record's digest."""
    log = retirement_log_proof(retirement)
    if retirement.is_private:
        return {"reference": retirement.reference, "valid": True, "private": True, "log": log}
    record = retirement_record(retirement)
    return {"reference": retirement.reference, "valid": True, "private": False, "record": record,
            "digest": {"algorithm": "SHA-256", "canonical_form": CANONICAL_FORM, "value": record_digest(record)},
            "log": log}


def statement_facts(record: dict) -> list[tuple[str, str]]:
    option = record["option"]
    period = record["reporting_period"]
    return [
        ("Registry", record["registry"]),
        ("Reference", record["reference"]),
        ("Retired", datetime_text(datetime.datetime.fromisoformat(record["retired_at"]))),
        ("Retired by", f"{record['organization']['name']} ({record['organization']['id']})"),
        ("Counts toward", counts_toward_text(name=option["name"], type_label=option["type"],
                                             reason_label=option["reason"], state=option["state_or_province"])),
        ("Compliance period", str(record["compliance_period"] or "")),
        ("Reporting period", f"{period['start'] or '…'} to {period['end'] or '…'}"
         if period["start"] or period["end"] else ""),
        ("Beneficiary", record["beneficiary"]),
    ]


def record_batches(record: dict) -> list[tuple[SummaryCertificate, str, int]]:
    """The record's batches as the statement's table lists them (summary_document): the generator's name
    and the rest as the record keeps them, so that the table says what the digest under it covers."""
    batches = []
    for batch in record["batches"]:
        origin = batch.get("origin")
        certificate = SummaryCertificate(
            generator_code=batch["generator"]["id"], generator_name=batch["generator"]["name"], fuel=batch["fuel"],
            state=batch["location"], vintage=batch["vintage"], eligibilities=batch["eligibilities"],
            **({"origin": origin_text(origin["tracking_system"], origin["original_serial"]),
                "tracking_system": origin["tracking_system"], "original_serial": origin["original_serial"]}
               if origin else {}))
        batches.append((certificate, batch["serial_number"], batch["quantity"]))
    return batches


def statement_pdf(retirement: Retirement) -> bytes:
    """The retirement statement: the record's facts and batches, then how to verify it: the
    verification page's address, its QR code and the record's digest."""
    record = retirement_record(retirement)
    batches = record_batches(record)
    pdf = summary_document(title=f"{settings.REGISTRY_NAME}: retirement statement",
                           footer=f"Retirement {retirement.reference}", facts=statement_facts(record), batches=batches)
    verification_block(pdf, what="retirement", url=verification_url(retirement), digest=record_digest(record))
    return bytes(pdf.output())


def verification_block(pdf: SummaryPDF, *, what: str, url: str, digest: str) -> None:
    """How to verify a statement, at the end of its PDF (a retirement's, a matching statement's): the
    public page's address, the record's digest and a QR code of the address."""
    if pdf.will_page_break(60):
        pdf.add_page()
    pdf.ln(4)
    pdf.paragraph(f"Verify this {what}", size=11, style="B", height=6)
    pdf.paragraph(f"Anyone can check this statement at {url} (no sign-in). The SHA-256 digest of the "
                  f"{what}'s record in canonical form ({CANONICAL_FORM}) is:", size=9)
    pdf.paragraph(digest, size=9, style="B")
    qr = io.BytesIO()
    segno.make(url, error="m").save(qr, kind="png", scale=6, border=2)
    qr.seek(0)
    pdf.image(qr, w=35, h=35)
