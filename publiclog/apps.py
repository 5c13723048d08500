from django.apps import AppConfig


class PublicLogConfig(AppConfig):
    name = "publiclog"
    verbose_name = "public log of retirements"

    def ready(self) -> None:
        from events.consumers import Consumer, consumer_register
        from ledger.verification import app_check_register
        from retirements.proofs import log_proof_register

        from .selectors import retirement_log_proof
        from .services import CONSUMER, KINDS, log_append, log_append_one
        from .verification import log_breaches

        # Only writes (the leaves and nodes): in the claims' transaction, exactly once, a batch at a time.
        consumer_register(Consumer(name=CONSUMER, handle=log_append_one, handle_many=log_append, kinds=KINDS,
                                   in_transaction=True))
        # The verification page (an app below this one) shows a retirement's place in the log.
        log_proof_register(retirement_log_proof)
        # verify_ledger (an app below this one) runs verify_log's check with its own.
        app_check_register("the public log (verify_log)", log_breaches)
