"""The wizard's draft: a Transfer in status draft, on the server, so a reload resumes it."""

from django.utils import timezone

from registry.models import Organization, User
from registry.rows import insert_where, update_where
from registry.services import ROLE_CONDITION, role_params, role_refused

from ..models import Transfer
from .lifecycle import TransferRefused


def transfer_draft_start(*, organization: Organization, user: User, batches: list[tuple[int, int]]) -> Transfer:
    """Start a draft for the selected batches, given as (id, quantity), each at its whole
    quantity (step 1's default). The role is checked by the statement that writes the draft."""
    if not batches:
        raise TransferRefused("Select at least one active batch to transfer.")
    draft = Transfer(organization=organization, created_by=user, status=Transfer.Status.DRAFT,
                     draft={"lines": [[batch_id, quantity] for batch_id, quantity in batches], "step": 1})
    if not insert_where(draft, ROLE_CONDITION, role_params(user=user, organization=organization)):
        raise role_refused(organization)
    return draft


def transfer_draft_save(*, draft: Transfer, **changes) -> Transfer:
    """Save the wizard's choices on a draft that is still a draft (compare-and-swap on status)."""
    previous, draft.draft = draft.draft, draft.draft | changes
    if update_where(draft, ["draft"], status=Transfer.Status.DRAFT) != 1:
        draft.draft = previous
        raise TransferRefused("This transfer has already been submitted.")
    return draft


def transfer_draft_fail(*, draft: Transfer, reason: str) -> None:
    """A draft that can no longer be confirmed (a batch changed under it) is marked failed."""
    Transfer.objects.filter(pk=draft.pk, status=Transfer.Status.DRAFT).update(
        status=Transfer.Status.FAILED, decision_note=reason, decided_at=timezone.now())


