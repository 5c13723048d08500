"""The organization's own pages (members, API keys, webhooks, programs, billing, activity) behind one header link,
"Organization", with tabs shared by those pages (issue 20, polish item 3)."""

import re

import pytest
from django.urls import reverse

PAGES = {"Members": reverse("members:list"), "API keys": reverse("api-keys:list"),
         "Webhooks": reverse("webhooks:list"), "Programs": reverse("programs:participation"),
         "Billing": reverse("billing:billing"), "Activity": reverse("activity")}


def header(page: str) -> str:
    return page[page.index('<nav aria-label="Portal">'):page.index("</nav>")]


def tabs(page: str) -> str:
    return page[page.index('<nav class="tabs" aria-label="Organization">'):page.index("</nav>", page.index(
        'aria-label="Organization"'))]


@pytest.mark.parametrize("current", list(PAGES))
def test_a_manager_finds_each_organization_page_behind_one_header_link_and_the_tabs(signed_in, manager, current):
    page = signed_in(manager).get(PAGES[current]).content.decode()
    nav = header(page)
    assert re.findall(r'<a href="([^"]+)"[^>]*aria-current="page">Organization</a>', nav) == [PAGES["Members"]]
    assert not any(f'href="{url}"' in nav for name, url in PAGES.items() if name != "Members")
    assert ">Members<" not in nav and ">API keys<" not in nav and ">Activity<" not in nav
    shown = tabs(page)
    assert re.findall(r'<a href="([^"]+)"', shown) == list(PAGES.values())
    assert re.findall(r'aria-current="page">([^<]+)</a>', shown) == [current]


def test_others_find_the_activity_page_behind_the_header_link_and_no_tabs(signed_in, viewer):
    client = signed_in(viewer)
    assert re.search(rf'<a href="{PAGES["Activity"]}"[^>]*>Organization</a>',
                     header(client.get(reverse("accounts:list")).content.decode()))
    page = client.get(PAGES["Activity"]).content.decode()
    assert 'aria-current="page">Organization</a>' in header(page) and 'aria-label="Organization"' not in page


def test_elsewhere_the_organization_link_is_not_current(signed_in, manager):
    page = signed_in(manager).get(reverse("accounts:list")).content.decode()
    assert 'aria-current="page">Organization</a>' not in header(page) and 'aria-label="Organization"' not in page
