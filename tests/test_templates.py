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
