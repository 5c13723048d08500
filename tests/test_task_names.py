"""Services queue their app's tasks by name (utilities.wakeups), as beat's schedule does: every name
the code gives is a task the worker registers, so a misspelt one fails here, not in a worker's log."""

import re
import subprocess
from pathlib import Path

import pytest

from portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]
TASK_NAME = re.compile(r"""["']((?:\w+\.)+tasks\.\w+)["']""")


def task_names_in_the_code() -> set[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return {name for path in listed if not path.startswith(("tests/", "bench/"))
            for name in TASK_NAME.findall((ROOT / path).read_text())}


@pytest.mark.django_db  # importing the tasks as a worker does runs Django's checks, which ask the server's version
def test_every_task_the_code_names_is_a_registered_task():
    celery_app.loader.import_default_modules()
    named = task_names_in_the_code()
    assert {"mass_uploads.tasks.process_mass_upload", "webhooks.tasks.send_webhook_deliveries",
            "issuance.tasks.process_generation_upload"} <= named  # the services' names are found
    assert named - set(celery_app.tasks) == set()
