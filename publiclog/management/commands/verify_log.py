import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from publiclog.verification import log_behind, log_breaches
from utilities.display import count_text


def seen_note(path: str) -> str:
    """A checkpoint's signed note from a file: the note itself, or the state file of
    tools/verify_log.py (JSON with the note it kept)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)["note"]
        except (ValueError, KeyError, TypeError) as error:
            raise CommandError(f"{path} is JSON without a checkpoint's note.") from error
    return text


class Command(BaseCommand):
    help = ("Re-derive the public log from its leaves and compare it with the stored tree, every signed "
            "checkpoint, and the checkpoints given (kept by auditors or witnesses); exit non-zero on any breach.")

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", action="append", default=[], metavar="FILE",
                            help="a signed checkpoint seen elsewhere (a note, or tools/verify_log.py's state file)")

    def handle(self, *args, **options):
        breaches = log_breaches(seen=[seen_note(path) for path in options["checkpoint"]])
        for breach in breaches:
            self.stdout.write(breach)
        if breaches:
            raise CommandError(f"{count_text(len(breaches), 'breach', 'breaches')} of the public log.")
        self.stdout.write(self.style.SUCCESS("Public log sound: the leaves give every stored node and checkpoint."))
        if behind := log_behind():
            self.stdout.write(f"{count_text(behind, 'retirement')} not in the log yet: "
                              "its consumer has not come to them.")
