"""The organization's activity log: how each kind of ledger event reads in it, said once per kind.
The log is the ledger itself (registry.selectors.activity_of), not a copy of it."""

from django.utils.text import capfirst

from ledger.models import LedgerEvent
from utilities.display import number_text

from .models import Membership, Organization

Kind = LedgerEvent.Kind
ROLE_LABELS = dict(Membership.Role.choices)

# The kinds the log lists. Splits are left out: each is a step of the transfer, issuance or
# retirement listed with it, and a mass transfer makes thousands of them. A user's own two-factor
# sign-in is filed under no organization (the user may belong to several): staff read it in the admin.
# A fee schedule is the registry's, of no organization: staff read its events in the admin.
LOGGED_KINDS = [kind for kind in Kind if kind not in (Kind.SPLIT, Kind.TWO_FACTOR_ON, Kind.TWO_FACTOR_OFF,
                                                     Kind.FEE_SCHEDULE_SAVED)]


def _quantity(event: LedgerEvent) -> str:
    batches = (event.after or {}).get("batches")
    if batches is None:  # an issuance records the one batch it made
        batches = [event.after or {}]
    total = sum(batch.get("quantity", 0) for batch in batches)
    return f"{number_text(total)} certificate{'' if total == 1 else 's'}"


def _member(record: dict | None) -> str:
    return (record or {}).get("email", "a member")


def _role(record: dict | None) -> str:
    role = (record or {}).get("role", "")
    return ROLE_LABELS.get(role, role).lower()


def _account(event: LedgerEvent) -> str:
    return f"account {event.account.public_id}" if event.account_id else "an account"


def _transfer(event: LedgerEvent) -> str:
    upload = event.transfer.mass_upload_id if event.transfer_id else None
    word = "import" if event.transfer_id and event.transfer.kind == "import" else "transfer"
    return f"{word} {event.transfer_id}" + (f" (mass upload {upload})" if upload else "")


def _registry_itself(event: LedgerEvent) -> str | None:
    """The tracking system that took this step itself, running this project too (its signed message, no person
    here behind it: an import it sent, its answer to an export); None when a person here took it."""
    if event.actor_id is None and event.transfer_id and event.transfer.tracking_system_id:
        return event.transfer.tracking_system.name
    return None


def _receiving(event: LedgerEvent) -> str:
    return _registry_itself(event) or "The receiving system"


def _import_recorder(event: LedgerEvent) -> str:
    name = _registry_itself(event)
    return f"{name} sent" if name else "Registry staff recorded"


def _initiated(event: LedgerEvent, organization: Organization) -> str:
    if event.organization_id == organization.pk:
        return f"Submitted {_transfer(event)}: {_quantity(event)}."
    return f"{event.organization.name} sent {_transfer(event)} to this organization: {_quantity(event)}."


def _instruction(record: dict | None) -> str:
    """A standing instruction as its ledger event records it (instructions.models, snapshot)."""
    record = record or {}
    return (f"standing instruction {record.get('instruction', '')}: {record.get('share', '')} of each issuance of "
            f"{record.get('source', '')}, vintages {record.get('vintages', '')}"
            + (", irrevocable" if record.get("irrevocable") else ""))


def _status_labels(model) -> dict[str, str]:
    """A model's statuses as its pages word them (its status field's labels)."""
    return {value: str(label).lower() for value, label in model._meta.get_field("status").flatchoices}


# The account's statuses, read through the ledger's own relation: accounts is a layer above this one.
ACCOUNT_STATUSES = _status_labels(LedgerEvent._meta.get_field("account").related_model)
ORGANIZATION_STATUSES = _status_labels(Organization)


def _status_change(what, labels: dict[str, str]):
    """`what` changed status: from and to as the pages word them (a status since renamed, as recorded)."""
    def sentence(event: LedgerEvent, organization: Organization) -> str:
        before, after = ((record or {}).get("status", "") for record in (event.before, event.after))
        return f"The status of {what(event)} changed from {labels.get(before, before)} to {labels.get(after, after)}."
    return sentence


class _Blank(dict):
    """A record whose missing keys read as "" in a sentence (str.format_map)."""

    def __missing__(self, key: str) -> str:
        return ""


def _worded(template: str):
    """A sentence of the event's `after` record's values by name ({invoice}), and its note ({note});
    what the record lacks reads as ""."""
    def sentence(event: LedgerEvent, organization: Organization) -> str:
        return template.format_map(_Blank({**(event.after or {}), "note": event.note}))
    return sentence


SENTENCES = {
    Kind.ISSUANCE: lambda e, o: f"Issued {_quantity(e)} into {_account(e)}.",
    Kind.TRANSFER_INITIATED: _initiated,
    Kind.IMPORT_RECORDED: lambda e, o: f"{_import_recorder(e)} import {e.transfer_id}: {_quantity(e)} from "
                                       f"{e.transfer.tracking_system.name}, serial "
                                       f"{(e.after or {}).get('original_serial', '')} there, for "
                                       f"{e.transfer.recipient_organization.name} to accept or reject.",
    Kind.TRANSFER_ACCEPTED: lambda e, o: f"{e.organization.name} accepted {_transfer(e)}.",
    Kind.TRANSFER_REJECTED: lambda e, o: (
        f"{e.transfer.recipient_organization.name} rejected {_transfer(e)}; its certificates were voided, "
        f"to return to {e.transfer.tracking_system.name}." if e.transfer.kind == "import"
        else f"{e.transfer.recipient_organization.name} rejected {_transfer(e)}; the certificates returned."),
    Kind.TRANSFER_WITHDRAWN: lambda e, o: f"{e.organization.name} withdrew {_transfer(e)}.",
    Kind.TRANSFER_EXPIRED: lambda e, o: f"{capfirst(_transfer(e))} expired; the certificates returned.",
    Kind.EXPORT_CONFIRMED: lambda e, o: f"{_receiving(e)} accepted export {_transfer(e)}.",
    Kind.EXPORT_REJECTED: lambda e, o: f"{_receiving(e)} rejected export {_transfer(e)}; the certificates returned.",
    Kind.RETIREMENT: lambda e, o: f"Retired {_quantity(e)}: retirement "
                                  f"{(e.after or {}).get('retirement', {}).get('reference', e.transfer_id)}.",
    Kind.RETIREMENT_PRIVACY: lambda e, o: f"Made the retirement of {_transfer(e)} "
                                          f"{'private' if (e.after or {}).get('private') else 'public'}.",
    Kind.ACCOUNT_STATUS: _status_change(_account, ACCOUNT_STATUSES),
    Kind.ORGANIZATION_STATUS: _status_change(lambda e: "the organization", ORGANIZATION_STATUSES),
    Kind.ORGANIZATION_SETTINGS: lambda e, o: _settings_change(e.after or {}),
    Kind.MEMBER_INVITED: lambda e, o: f"Invited {_member(e.after)} as a {_role(e.after)}.",
    Kind.INVITATION_RESENT: lambda e, o: f"Resent the invitation to {_member(e.after)}.",
    Kind.INVITATION_REVOKED: lambda e, o: f"Withdrew the invitation to {_member(e.before)}.",
    Kind.MEMBER_JOINED: lambda e, o: f"{_member(e.after)} joined as a {_role(e.after)}.",
    Kind.MEMBER_ROLE_CHANGED: lambda e, o: f"Changed the role of {_member(e.after)} from {_role(e.before)} "
                                           f"to {_role(e.after)}.",
    Kind.MEMBER_REMOVED: lambda e, o: f"Removed {_member(e.before)} ({_role(e.before)}).",
    Kind.ACCOUNT_OPENED: lambda e, o: f"Opened {(e.after or {}).get('type', '')} {_account(e)}, "
                                      f"“{(e.after or {}).get('name', '')}”"
                                      + (f", for {_program(e.after)}." if "program" in (e.after or {}) else "."),
    Kind.ACCOUNT_RENAMED: lambda e, o: f"Renamed {_account(e)} from “{(e.before or {}).get('name', '')}” "
                                       f"to “{(e.after or {}).get('name', '')}”.",
    Kind.GENERATOR_REGISTERED: lambda e, o: f"Registered generator {_generator(e)}, "
                                            f"“{(e.after or {}).get('name', '')}”, as a draft.",
    Kind.GENERATOR_CHANGED: lambda e, o: f"Changed generator {_generator(e)}: {_generator_changes(e)}." + (
        " It waits for approval again." if "status" in (e.after or {}) else ""),
    Kind.GENERATOR_SUBMITTED: lambda e, o: f"Submitted generator {_generator(e)} for approval.",
    Kind.GENERATOR_APPROVED: lambda e, o: f"Approved generator {_generator(e)}" + (f": {e.note}." if e.note else "."),
    Kind.GENERATOR_SENT_BACK: lambda e, o: f"Sent generator {_generator(e)} back: {e.note}",
    Kind.GENERATOR_REVIEWED: lambda e, o: f"Confirmed generator {_generator(e)}'s registration for "
                                          f"{(e.after or {}).get('year', '')} in the annual review.",
    Kind.ELIGIBILITY_RECORDED: lambda e, o: f"Recorded {_eligibility(e)}{_certification(e.after)}, "
                                            f"{_eligibility_days(e.after)}.",
    Kind.ELIGIBILITY_CHANGED: lambda e, o: f"Changed {_eligibility(e)}: {_eligibility_changes(e)}.",
    Kind.ELIGIBILITY_ENDED: lambda e, o: f"Ended {_eligibility(e)}: it holds through "
                                         f"{(e.after or {}).get('good_through', '')}"
                                         + (f": {e.note}." if e.note else "."),
    Kind.INSTRUCTION_CREATED: lambda e, o: f"Set {_instruction(e.after)}.",
    Kind.INSTRUCTION_ENDED: lambda e, o: f"Ended standing instruction {(e.before or {}).get('instruction', '')}.",
    Kind.PROGRAM_ADMINISTRATOR_ADDED: lambda e, o: f"Registry staff made this organization an administrator of "
                                                   f"{_program(e.after)}.",
    Kind.PROGRAM_ADMINISTRATOR_REMOVED: lambda e, o: f"This organization no longer administers {_program(e.before)}.",
    Kind.PROGRAM_INVITED: lambda e, o: f"Invited to join {_program(e.after)}.",
    Kind.PROGRAM_JOINED: lambda e, o: f"Joined {_program(e.after)}.",
    Kind.PROGRAM_DECLINED: lambda e, o: f"Declined to join {_program(e.after)}.",
    Kind.BATCH_VOIDED: lambda e, o: f"Registry staff voided {_quantity(e)} in {_account(e)}: {e.note}",
    Kind.ISSUANCE_ROLLED_BACK: lambda e, o: _rolled_back(e),
    Kind.CORRECTION_REQUESTED: lambda e, o: (
        f"Requested a correction of {_corrected_month(e)} from {(e.before or {}).get('mwh')} MWh to "
        f"{(e.after or {}).get('mwh')} MWh: {e.note or 'a corrected upload'}"),
    Kind.ISSUANCE_ADJUSTED: lambda e, o: _adjusted(e),
    Kind.CORRECTION_REFUSED: lambda e, o: (
        f"Registry staff refused the correction of {_corrected_month(e)} to {(e.after or {}).get('refused')} MWh: "
        f"{e.note}"),
    Kind.INVOICE_ISSUED: _worded("The registry issued invoice {invoice} for {period}: {total_text}, due {due_on}."),
    Kind.INVOICE_DUE_SOON: _worded("Reminded that invoice {invoice} is due on {due_on}: {balance_text} left to pay."),
    Kind.INVOICE_OVERDUE: _worded("Invoice {invoice} is overdue (it was due on {due_on}): {balance_text} left to pay."),
    Kind.PAYMENT_RECORDED: _worded("Registry staff recorded a payment of {amount_text} on invoice {invoice}; "
                                   "{balance_text} left to pay."),
    Kind.CREDIT_NOTE_ISSUED: _worded("Registry staff credited {amount_text} on invoice {invoice}: {note}"),
    Kind.BILLING_HOLD_SET: lambda e, o: (e.after or {}).get("billing_hold", ""),
    Kind.BILLING_HOLD_LIFTED: lambda e, o: "Active again: what was owed past due is paid.",
    Kind.INSTRUCTION_LIFTED: lambda e, o: f"Made standing instruction {(e.before or {}).get('instruction', '')} "
                                          "revocable: its organization may end it now.",
}


def _rolled_back(event: LedgerEvent) -> str:
    """An issuance rolled back, as issuance.corrections records it (its batch's voiding is a line of its own)."""
    after = event.after or {}
    month = after.get("month", "")
    shown = f"{month[5:7]}/{month[:4]}" if len(month) >= 7 else month  # 2026-01-01: 01/2026, as periods read
    return (f"Registry staff rolled back the issuance of {after.get('generator', '')} {shown} "
            f"({number_text(after.get('quantity', 0))} certificate{'' if after.get('quantity') == 1 else 's'}); "
            f"its generation report is submitted again for correction: {event.note}")


def _corrected_month(event: LedgerEvent) -> str:
    after = event.after or {}
    return f"{after.get('generator', '')} {after.get('month', '')}".strip() or "an issued month"


def _adjusted(event: LedgerEvent) -> str:
    """A correction approved (issuance.adjustments): the month's MWh before and after, and its effect."""
    before, after = event.before or {}, event.after or {}
    effects = [f"{number_text(after[key])} {text}" for key, text in (
        ("debit_paid", "owed paid"), ("issued", "issued"), ("voided", "voided")) if after.get(key)]
    if after.get("shortfall", 0) > after.get("voided", 0):
        effects.append(f"{number_text(after['shortfall'] - after.get('voided', 0))} owed from the next issuances")
    return (f"Registry staff corrected {_corrected_month(event)} from {before.get('mwh')} MWh to {after.get('mwh')} "
            f"MWh: {', '.join(effects) or 'no whole certificate'}; {after.get('carry')} MWh carried.")


def _settings_change(after: dict) -> str:
    """An organization setting changed: as the Members page says it when a manager changes it
    (registry.views), or its kind as registry staff set it."""
    if "kind" in after:
        return f"Registry staff made this organization a {after['kind']}."
    if "billing_tier" in after:
        contact = after.get("billing_contact")
        return (f"Billing set: invoices go to {contact or 'the managers'}; the {after['billing_tier']} tier's "
                "subscription.")
    return "Two-factor sign-in is now " + (
        "required for every member." if after.get("require_two_factor") else "each member's choice.")


def _program(record: dict | None) -> str:
    """A program as programs.participation records it."""
    return (record or {}).get("program_name", "a program")


def _generator(event: LedgerEvent) -> str:
    return (event.after or {}).get("code", "")


# How a generator's changed attributes read (certificates.generator_services records them by column).
GENERATOR_ATTRIBUTES = {"name": "name", "fuel_type": "fuel type", "technology": "technology",
                        "capacity_mw": "capacity (MW)", "state": "state or province",
                        "commissioned_on": "commercial operation date", "eligibilities": "eligibilities",
                        "account_id": "issuance account"}


def _generator_changes(event: LedgerEvent) -> str:
    before, after = event.before or {}, event.after or {}
    changes = [f"{label} from {_plain(before.get(key))} to {_plain(after.get(key))}"
               for key, label in GENERATOR_ATTRIBUTES.items() if key in after and key != "account_id"]
    if "account_id" in after:
        changes.append("issuance account")
    return "; ".join(changes)


def _eligibility(event: LedgerEvent) -> str:
    """`eligibility MN RES of generator M870`, as certificates.generator_services records it."""
    return f"eligibility {(event.after or {}).get('name', '')} of generator {_generator(event)}"


def _certification(record: dict | None) -> str:
    number = (record or {}).get("certification_number")
    return f" (certification number {number})" if number else ""


def _eligibility_days(record: dict | None) -> str:
    record = record or {}
    through = record.get("good_through")
    return f"from {record.get('start_date', '')} " + (f"through {through}" if through else "with no end")


# How a recorded eligibility's changed fields read (certificates.generator_services records them by column).
ELIGIBILITY_FIELDS = {"name": "eligibility", "certification_number": "certification number",
                      "start_date": "start date", "verified_on": "verified date", "good_through": "good-through date"}


def _eligibility_changes(event: LedgerEvent) -> str:
    before, after = event.before or {}, event.after or {}
    return "; ".join(f"{label} from {before.get(key) or 'none'} to {after.get(key) or 'none'}"
                     for key, label in ELIGIBILITY_FIELDS.items() if before.get(key) != after.get(key))


def _plain(value) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return "none" if value in (None, "") else str(value).replace("_", " ")  # onshore_wind: onshore wind


def event_sentence(event: LedgerEvent, organization: Organization) -> str:
    """What happened, in a sentence, as `organization` reads it."""
    return SENTENCES[event.kind](event, organization)


def event_person(event: LedgerEvent, organization: Organization) -> str:
    """Who did it: one of the organization's people by name and address; someone of another
    organization by that organization's name; registry staff, or the registry itself, as such."""
    if event.actor_id is None:
        return "The registry (automatically)"
    if event.actor.is_staff:
        return "Registry staff"
    if acting_organization_id(event) != organization.pk:
        return event.transfer.recipient_organization.name if event.kind == Kind.TRANSFER_REJECTED \
            else event.organization.name
    user = event.actor
    return f"{user.full_name} ({user.email})" if user.full_name else user.email


def acting_organization_id(event: LedgerEvent) -> int | None:
    """The organization whose person acted. A ledger event names the organization it is filed under;
    a rejection is filed under the sender, though the recipient rejects (as selectors.acted_for)."""
    if event.kind == Kind.TRANSFER_REJECTED:
        return event.transfer.recipient_organization_id
    return event.organization_id
