"""A count and the words it decides agree, in the emails and the admin: "1 account frozen", "2 accounts
frozen", never "account(s)" nor "1 accounts"."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from utilities.display import count_text

from .factories import AccountFactory

# "report(s)", "breach(es)": a plural left for the reader to work out.
GUESSED_PLURAL = re.compile(r"[A-Za-z]\((?:s|es)\)")


def wording_sources() -> list[Path]:
    """Every template (pages, emails, the admin's), and the modules that word emails and admin messages."""
    templates = [path for directory in settings.TEMPLATES[0]["DIRS"] for path in Path(directory).rglob("*")
                 if path.is_file()]
    modules = [path for pattern in ("*/emails.py", "*/notifications.py", "*/admin.py")
               for path in Path(settings.BASE_DIR).glob(pattern)]
    return templates + modules


def test_no_template_email_or_admin_message_leaves_the_plural_to_the_reader():
    sources = wording_sources()
    assert any(path.name == "notifications.py" for path in sources) and any(path.suffix == ".txt" for path in sources)
    guessed = [f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}"
               for path in sources for number, line in enumerate(path.read_text().splitlines(), start=1)
               if GUESSED_PLURAL.search(line)]
    assert guessed == []


@pytest.mark.parametrize(("count", "expected"), [(0, "0 batches"), (1, "1 batch"), (2, "2 batches"),
                                                 (45_855, "45,855 batches")])
def test_a_count_decides_its_noun(count, expected):
    assert count_text(count, "batch", "batches") == expected


def test_the_admin_says_one_account_and_two_accounts(admin_client, org):
    accounts = [AccountFactory(organization=org) for _ in range(3)]
    url = reverse("admin:accounts_account_changelist")
    response = admin_client.post(url, {"action": "freeze", "_selected_action": [accounts[0].pk]}, follow=True)
    assert "1 account frozen." in response.content.decode()
    response = admin_client.post(url, {"action": "freeze", "_selected_action": [a.pk for a in accounts[1:]]},
                                 follow=True)
    assert "2 accounts frozen." in response.content.decode()
