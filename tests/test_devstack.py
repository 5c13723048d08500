"""`make run` (dev.devstack): the environment it gives the portal's processes and what it
leaves on the screen once they are up."""

import io
import os
import subprocess
import sys

import pytest

from dev import devstack
from portal.management.commands.seed_demo import Command as SeedDemo
from registry.models import Membership

from .conftest import ROOT
from .factories import OrganizationFactory, member

SERVICES = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/registry", "REDIS_URL": "redis://127.0.0.1:6379/0"}


def test_links_in_emails_point_at_the_port_served_when_site_url_is_unset():
    env = devstack.portal_environment({"PATH": "/usr/bin"}, SERVICES, 8130)
    assert env["SITE_URL"] == "http://127.0.0.1:8130"
    assert env["DATABASE_URL"] == SERVICES["DATABASE_URL"] and env["PATH"] == "/usr/bin"


@pytest.mark.parametrize("site_url", ["https://registry.example.org", "http://localhost:9000"])
def test_an_explicit_site_url_is_left_alone(site_url):
    assert devstack.portal_environment({"SITE_URL": site_url}, SERVICES, 8130)["SITE_URL"] == site_url


def test_an_empty_site_url_counts_as_unset():
    assert devstack.portal_environment({"SITE_URL": ""}, SERVICES, 8130)["SITE_URL"] == "http://127.0.0.1:8130"


def test_debug_is_on_unless_set():
    assert devstack.portal_environment({}, SERVICES, 8000)["DEBUG"] == "1"
    assert devstack.portal_environment({"DEBUG": "0"}, SERVICES, 8000)["DEBUG"] == "0"


def test_the_portals_processes_read_that_site_url():
    """What the worker that writes the emails sees: settings.SITE_URL from the devstack's environment."""
    environ = {name: value for name, value in os.environ.items() if name != "SITE_URL"}
    env = devstack.portal_environment(environ, {}, 8130)
    shown = subprocess.run([sys.executable, "-c", "import django; django.setup(); "
                            "from django.conf import settings; print(settings.SITE_URL)"],
                           cwd=ROOT, env=env | {"DJANGO_SETTINGS_MODULE": "portal.settings"},
                           capture_output=True, text=True, check=True).stdout.strip()
    assert shown == "http://127.0.0.1:8130"


@pytest.mark.django_db
def test_the_ready_block_lists_seed_demos_users_with_their_roles(org):
    member(org, Membership.Role.TRADER, email="trader@prairiewind.example")
    member(OrganizationFactory(name="Lakeshore Power Cooperative"), Membership.Role.VIEWER,
           email="viewer@lakeshore.example")
    seed_output = io.StringIO()
    SeedDemo(stdout=seed_output).print_users()

    users = devstack.demo_users("Seeded the demo registry.\n" + seed_output.getvalue())
    block = devstack.ready_block(port=8130, env={"SITE_URL": "http://127.0.0.1:8130"}, users=users,
                                 embedded=["PostgreSQL", "Redis"])

    assert "the portal is up at http://127.0.0.1:8130/" in block  # .ci/run waits for this line
    assert "password 'demo'" in block and "staff@registry.example" in block and "/admin/" in block
    assert [line for line in block.splitlines() if "trader@prairiewind.example" in line][0].split()[1] == "trader"
    assert [line for line in block.splitlines() if "viewer@lakeshore.example" in line][0].split()[1] == "viewer"
    assert "Seeded" not in block and "Links in emails" not in block
    assert f"kept in {devstack._shown(devstack.DATA / 'mail')}/" in block
    assert "Ctrl-C stops" in block and "embedded PostgreSQL and Redis" in block
    assert block.splitlines()[-1].startswith("---")  # the block is the last thing printed


def test_the_ready_block_names_an_smtp_server_and_a_site_url_of_its_own():
    block = devstack.ready_block(port=8000, env={"EMAIL_HOST": "smtp.example.org", "EMAIL_PORT": "587",
                                                 "SITE_URL": "https://registry.example.org"},
                                 users=[], embedded=[])
    assert "sent by SMTP through smtp.example.org:587" in block and ".data/mail" not in block
    assert "Links in emails point at https://registry.example.org/" in block
    assert "embedded" not in block
