from django.apps import AppConfig


def _transfer_event_owed(sender, *, transfer_id: int, event_kind: str, occurred_at, **kwargs) -> None:
    from .services import webhook_deliveries_owe_for_transfer

    webhook_deliveries_owe_for_transfer(transfer_id=transfer_id, event_kind=event_kind, occurred_at=occurred_at)


def _mass_upload_finished(sender, *, upload_id: int, **kwargs) -> None:
    from .services import webhook_deliveries_owe_for_upload

    webhook_deliveries_owe_for_upload(upload_id=upload_id)


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # transfers cannot import webhooks (it is below): it sends these signals in the transaction
        # that consumes its outbox row or finishes an upload, and the deliveries are owed in it.
        from transfers.signals import mass_upload_finished, transfer_event_owed

        transfer_event_owed.connect(_transfer_event_owed, dispatch_uid="webhooks.transfer_event_owed")
        mass_upload_finished.connect(_mass_upload_finished, dispatch_uid="webhooks.mass_upload_finished")
