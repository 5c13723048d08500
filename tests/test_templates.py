"""Django's `{# #}` comment is one line only: one spread over lines is printed to the page as text."""

import re
from pathlib import Path

from django.conf import settings

MULTI_LINE_COMMENT = re.compile(r"\{#(?:(?!#\}).)*\n", re.S)


def test_no_template_has_a_comment_django_would_print():
    templates = [path for directory in settings.TEMPLATES[0]["DIRS"] for path in Path(directory).rglob("*.html")]
    assert templates
    printed = [str(path) for path in templates if MULTI_LINE_COMMENT.search(path.read_text())]
    assert printed == []


def test_the_status_badge_is_written_once_for_every_page():
    """utilities.badges: the badge's HTML, a built-in of every template; no page writes it by hand."""
    from django.template import Context, Template

    from transfers.models import Transfer

    transfer = Transfer(status=Transfer.Status.PENDING)
    assert Template("{% status_badge transfer %}").render(Context({"transfer": transfer})) == \
        '<span class="status status-pending">Pending</span>'
    assert Template('{% status_badge status="active" label="On" %} {% status_badge label="Off" %}').render(
        Context()) == '<span class="status status-active">On</span> <span class="status">Off</span>'
    templates = [path for directory in settings.TEMPLATES[0]["DIRS"] for path in Path(directory).rglob("*.html")]
    assert [str(path) for path in templates if 'class="status' in path.read_text()] == []
