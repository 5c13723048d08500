"""Reconciliation with each registry running this project (issue #32, item 2): what this registry sent it
and received from it, export by export, against what it says it received and sent.

One exchange does both sides: this registry sends a signed `reconcile` message with its summary; the other
compares it with its own, records the differences for its staff, and answers with its own summary, signed,
which this one verifies and compares the same way. Both sides run it (the daily beat task, `manage.py
reconcile_registries`); each records a Reconciliation (the admin lists them), and every active staff user
is emailed when there is a difference. An export whose last change on either side is younger than GRACE
is not compared yet (its answer may be on its way)."""

import datetime

from django.conf import settings
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from registry.emails import emails_send, staff_for_email
from transfers.models import Transfer
from utilities.display import count_text

from .messages import FROM_HEADER, SIGNATURE_HEADER, MessageRefused, message_new, message_signed, message_verified
from .models import PeerRegistry, ReceivedMessage, Reconciliation
from .sending import SendFailed, message_send, problem_detail

GRACE = datetime.timedelta(hours=1)
OUTCOMES = {Transfer.Status.PENDING: "pending", Transfer.Status.COMPLETE: "accepted",
            Transfer.Status.REJECTED: "rejected"}


def _changed(transfer: dict) -> str:
    return (transfer["decided_at"] or transfer["submitted_at"] or timezone.now()).isoformat(timespec="seconds")


def registry_summary(peer: PeerRegistry) -> dict:
    """This registry's side: `sent`, its exports to the peer since it was configured as running this project
    (those before went to it by hand), and `received`, the exports it received from it, each by the
    exporter's reference: [quantity, outcome, last change]."""
    tracking_system = peer.tracking_system
    exports = (Transfer.objects.filter(kind=Transfer.Kind.EXPORT, tracking_system=tracking_system,
                                       status__in=list(OUTCOMES), submitted_at__gte=peer.created_at)
               .annotate(quantity=Sum("items__batch__quantity"))
               .values("pk", "status", "quantity", "submitted_at", "decided_at"))
    imports = (ReceivedMessage.objects.filter(tracking_system=tracking_system, type=ReceivedMessage.Type.EXPORT)
               .annotate(quantity=Sum("transfer__items__batch__quantity"))
               .values("export_reference", "transfer__status", "quantity", "transfer__submitted_at",
                       "transfer__decided_at"))
    return {
        "sent": {str(e["pk"]): [e["quantity"] or 0, OUTCOMES[e["status"]], _changed(e)] for e in exports},
        "received": {str(i["export_reference"]): [
            i["quantity"] or 0, OUTCOMES.get(i["transfer__status"], i["transfer__status"]),
            _changed({"decided_at": i["transfer__decided_at"], "submitted_at": i["transfer__submitted_at"]})]
            for i in imports},
    }


def summaries_compared(mine: dict, theirs: dict, *, name: str, now: datetime.datetime,
                       grace: datetime.timedelta = GRACE) -> tuple[int, list[str]]:
    """How many exports were compared, and each difference in words: what one side sent and the other
    did not receive, or received in another quantity, or decided otherwise."""
    compared, differences = 0, []
    # Each side's exports as the other received them, with how a missing one on the other side reads.
    for here, there, ours, missing_there in (
            (mine.get("sent", {}), theirs.get("received", {}), "our export", "it never arrived"),
            (mine.get("received", {}), theirs.get("sent", {}), "its export", "received here, it was never sent")):
        for reference in sorted(set(here) | set(there), key=lambda text: int(text) if text.isdigit() else 0):
            ours_entry, theirs_entry = here.get(reference), there.get(reference)
            changed = [parse_datetime(str(entry[2])) for entry in (ours_entry, theirs_entry) if entry]
            if any(at is None or at > now - grace for at in changed):
                continue  # still on its way
            compared += 1
            if ours_entry is None:
                differences.append(f"{name} has {ours} {reference} ({theirs_entry[0]:,} certificates, "
                                   f"{theirs_entry[1]}), unknown here.")
            elif theirs_entry is None:
                differences.append(f"{ours.capitalize()} {reference} ({ours_entry[0]:,} certificates, "
                                   f"{ours_entry[1]}) is unknown to {name}: {missing_there}.")
            elif ours_entry[:2] != theirs_entry[:2]:
                differences.append(f"{ours.capitalize()} {reference}: {ours_entry[0]:,} certificates, {ours_entry[1]} "
                                   f"here; {theirs_entry[0]:,} certificates, {theirs_entry[1]} at {name}.")
    return compared, differences


def _record(peer: PeerRegistry, *, compared: int = 0, differences: list[str] | None = None,
            problem: str = "") -> Reconciliation:
    record = Reconciliation.objects.create(tracking_system=peer.tracking_system, compared=compared,
                                           differences=differences or [], problem=problem)
    if record.differences or problem:
        subject = (f"[{settings.REGISTRY_NAME}] Reconciliation with {peer.tracking_system.name}: "
                   + (count_text(len(record.differences), "difference") if not problem else "not made"))
        emails_send(staff_for_email(), subject=subject, template="imports/email/reconciliation", context={
            "record": record, "system": peer.tracking_system.name, "registry_name": settings.REGISTRY_NAME,
            "url": settings.SITE_URL + reverse("admin:imports_reconciliation_change", args=[record.pk])})
    return record


def _their_summary(peer: PeerRegistry, body: dict) -> dict:
    summary = body.get("summary")
    if not isinstance(summary, dict) or not all(isinstance(summary.get(side), dict) for side in ("sent", "received")):
        raise MessageRefused(400, "Malformed message", "A reconcile message carries its summary: sent and received.")
    for side in ("sent", "received"):
        for entry in summary[side].values():
            if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], int)):
                raise MessageRefused(400, "Malformed message",
                                     "Each summary entry is [quantity, outcome, last change].")
    return summary


def reconcile_answer(*, peer: PeerRegistry, body: dict) -> tuple[bytes, dict[str, str]]:
    """The inbox's part: compare the peer's summary with ours, record it, and answer with ours, signed."""
    theirs = _their_summary(peer, body)
    mine = registry_summary(peer)
    compared, differences = summaries_compared(mine, theirs, name=peer.tracking_system.name, now=timezone.now())
    _record(peer, compared=compared, differences=differences)
    return message_signed(message_new(type="reconcile", to=peer.tracking_system.code, summary=mine,
                                      in_reply_to=str(body["message_id"])))


def registry_reconcile(*, peer: PeerRegistry, grace: datetime.timedelta = GRACE) -> Reconciliation:
    """Reconcile with one registry running this project: our summary sent, theirs verified and compared."""
    mine = registry_summary(peer)
    body = message_new(type="reconcile", to=peer.tracking_system.code, summary=mine)
    try:
        status, raw, headers = message_send(peer, body)
        if status != 200:
            raise SendFailed(f"{peer.tracking_system.name} refused the reconciliation ({status}): "
                             f"{problem_detail(raw)}")
        other, answer = message_verified(raw=raw, sender=headers.get(FROM_HEADER, ""),
                                         signature=headers.get(SIGNATURE_HEADER, ""))
        if other != peer or answer["type"] != "reconcile" or answer.get("in_reply_to") != body["message_id"]:
            raise MessageRefused(400, "Malformed message", "The answer is not the reconciliation asked for.")
        theirs = _their_summary(peer, answer)
    except (SendFailed, MessageRefused) as error:
        return _record(peer, problem=str(error))
    compared, differences = summaries_compared(mine, theirs, name=peer.tracking_system.name, now=timezone.now(),
                                               grace=grace)
    return _record(peer, compared=compared, differences=differences)


def registries_reconcile(*, grace: datetime.timedelta = GRACE) -> list[Reconciliation]:
    """Reconcile with every registry running this project (beat, daily; manage.py reconcile_registries)."""
    return [registry_reconcile(peer=peer, grace=grace) for peer in
            PeerRegistry.objects.select_related("tracking_system").filter(tracking_system__is_active=True)]

