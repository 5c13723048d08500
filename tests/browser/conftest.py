"""Browser tests: Playwright driving Debian's Chromium (apt-get install chromium) against a live server."""

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from certificates.periods import ProductionPeriod

# Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def sign_in(browser, live_server):
    """sign_in(user, **context_options) -> a page of a fresh browser context, signed in; e.g.
    java_script_enabled=False for the pages as a browser without JavaScript gets them."""
    contexts = []

    def _sign_in(user, **context_options):
        context = browser.new_context(**{"viewport": {"width": 1400, "height": 900}, "accept_downloads": True,
                                         **context_options})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", user.email)
        page.fill("input[name=password]", "demo")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/certificates/")
        return page

    yield _sign_in
    for context in contexts:
        context.close()


@pytest.fixture
def staff_admin(browser, live_server, admin_user):
    """A page of a fresh browser context signed in to the admin site as registry staff (pytest-django's
    admin_user, password "password"), at 1280 px."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", admin_user.email)
    page.fill("input[name=password]", "password")
    page.click("input[type=submit]")
    yield page
    context.close()


@pytest.fixture
def issue_confirm_page(browser, live_server, admin_user):
    """issue_confirm_page() -> a staff page signed in to the admin, on the confirm page of "Issue the
    selected months" for every generation report."""
    def _open():
        staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        staff.goto(f"{live_server.url}/admin/login/")
        staff.fill("input[name=username]", admin_user.email)
        staff.fill("input[name=password]", "password")
        staff.click("input[type=submit]")
        staff.goto(f"{live_server.url}/admin/issuance/generationreport/")
        staff.check("#action-toggle")
        staff.select_option("select[name=action]", "issue_months")
        staff.click("button[name=index]")
        return staff
    return _open


@pytest.fixture
def screenshot(request):
    ARTIFACTS.mkdir(exist_ok=True)

    def _screenshot(page, name):
        """A picture for people to look at, not a check: Chromium now and then answers "Unable to capture
        screenshot" on a loaded machine (seen once in CI, on a page it then captured in the next run), so
        it is asked once more after its next frame."""
        path = str(ARTIFACTS / f"{request.node.name}-{name}.png")
        try:
            page.screenshot(path=path, full_page=True)
        except PlaywrightError as error:
            if "Unable to capture screenshot" not in str(error):
                raise
            page.evaluate("() => new Promise(resolve => requestAnimationFrame(() => resolve()))")
            page.screenshot(path=path, full_page=True)

    return _screenshot


@pytest.fixture
def every_page(browser, sign_in, live_server, settings, tmp_path, org, trader, viewer, holdings, second_account,
               counterparty, counterparty_trader, counterparty_account, foreign_batch, retirement_account, manager,
               instruction_with_runs):
    """every_page(on_page, **context_options) walks every page a participant can reach and calls
    on_page(page, name) on each: sign-in, settings, two-factor, each dashboard tab, each wizard step and the
    done page, a transfer, its accept, reject and withdraw pages, each step of a retirement, the
    retirement's page and the annual retirement report, the mass uploads and an upload with errors,
    the accounts, the activity log, the generation reports, uploads, an upload with errors and an
    issuance, the generators, one sent back and a manager's registration form, the standing
    instructions, setting one and one with its runs, the 403 and 404 pages, and a retirement's public
    verification page; signed out, as a trader, a viewer and a manager."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mass_uploads.models import MassTransferUpload
    from mass_uploads.services import mass_upload_create
    from mass_uploads.validation import COLUMNS
    from retirements.models import Retirement
    from transfers.models import Transfer

    from ..conftest import send
    from ..factories import GeneratorFactory, RetirementOptionFactory

    settings.MEDIA_ROOT = tmp_path
    incoming = send(foreign_batch, counterparty_trader, counterparty, org)
    failed = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("transfers.csv", (
        ",".join(COLUMNS) + "\r\n" + f"{holdings['wind'].serial_number},5000,,{second_account.public_id},\r\n"
        f"{holdings['solar'].serial_number},10,,,\r\nnot a serial,5,{counterparty.public_id},,\r\n").encode()))
    failed.refresh_from_db()
    assert failed.status == MassTransferUpload.Status.FAILED  # run by the eager task after commit
    url = live_server.url
    option = RetirementOptionFactory()
    generation_upload, issuance = _generation(org, trader, second_account)
    sent_back = GeneratorFactory(organization=org, code="G00007", name="Pipestone Wind", status="returned",
                                 technology="onshore_wind", account=second_account,
                                 review_note="The interconnection agreement gives 45 MW: correct the capacity.")

    def visit(page, path, name, on_page):
        response = page.goto(url + path)
        assert response.ok or name in ("403", "404", "404 signed out"), (name, response.status)
        on_page(page, name)

    def walk(on_page, **context_options):
        options = {"viewport": {"width": 1280, "height": 900}, **context_options}
        signed_out = browser.new_context(**options)
        try:
            page = signed_out.new_page()
            visit(page, "/login/", "sign-in", on_page)
            visit(page, "/no/such/page/", "404 signed out", on_page)
        finally:
            signed_out.close()

        page = sign_in(trader, **options)
        visit(page, "/settings/", "settings", on_page)
        visit(page, "/security/two-factor/", "two-factor", on_page)
        for tab in ("active", "pending", "retired", "exported", "transactions"):
            visit(page, f"/certificates/?tab={tab}", f"dashboard {tab}", on_page)
        visit(page, f"/transfers/new/?batch={holdings['wind'].pk}&batch={holdings['solar'].pk}", "wizard 1", on_page)
        page.wait_for_selector("[data-step=quantity]")
        page.click("#wizard button:has-text('Next')")
        page.wait_for_selector("[data-step=destination]")
        page.check("input[name=kind][value=organization]")
        on_page(page, "wizard 2")
        page.fill("#id_organization", counterparty.public_id)
        page.click("#wizard button:has-text('Next')")
        page.wait_for_selector("[data-step=review]")
        on_page(page, "wizard 3")
        page.click("#wizard a:has-text('Review')")
        page.wait_for_selector("[data-step=confirm]")
        on_page(page, "wizard 4")
        page.click("#wizard button:has-text('Transfer')")
        page.wait_for_selector("text=Download a transaction summary")
        on_page(page, "done")
        outgoing = Transfer.objects.filter(organization=org, status=Transfer.Status.PENDING).latest("pk")
        visit(page, f"/transfers/{outgoing.pk}/", "transfer", on_page)
        visit(page, f"/transfers/{outgoing.pk}/withdraw/", "withdraw", on_page)
        visit(page, f"/transfers/{incoming.pk}/accept/", "accept", on_page)
        visit(page, f"/transfers/{incoming.pk}/reject/", "reject", on_page)
        visit(page, f"/transfers/retire/?batch={holdings['hydro'].pk}", "retire 1", on_page)
        page.wait_for_selector("[data-step=quantity]")
        page.click("#wizard button:has-text('Next')")
        page.wait_for_selector("[data-step=destination]")
        page.select_option("select[name=account]", str(retirement_account.pk))
        page.select_option("select[name=option]", str(option.pk))
        page.fill("input[name=compliance_period]", "2024")
        on_page(page, "retire 2")
        page.click("#wizard button:has-text('Next')")
        page.wait_for_selector("[data-step=review]")
        on_page(page, "retire 3")
        page.click("#wizard a:has-text('Review')")
        page.wait_for_selector("[data-step=confirm]")
        page.click("#wizard button:has-text('Retire')")
        page.wait_for_selector("text=Certificates retired")
        on_page(page, "retire done")
        retirement = Retirement.objects.filter(transfer__organization=org).latest("transfer_id")
        visit(page, f"/transfers/{retirement.transfer_id}/", "retirement", on_page)
        report = f"/transfers/retirements/report/?year={retirement.transfer.submitted_at.year}"
        visit(page, report, "annual report", on_page)
        visit(page, "/transfers/mass/", "mass transfers", on_page)
        visit(page, f"/transfers/mass/{failed.pk}/", "upload with errors", on_page)
        visit(page, "/accounts/", "accounts", on_page)
        visit(page, "/organization/activity/", "activity", on_page)
        visit(page, "/generation/", "generation", on_page)
        visit(page, "/generation/uploads/", "generation uploads", on_page)
        visit(page, f"/generation/uploads/{generation_upload.pk}/", "generation upload with errors", on_page)
        visit(page, f"/generation/issuances/{issuance.pk}/", "issuance", on_page)
        visit(page, "/generators/", "generators", on_page)
        visit(page, f"/generators/{sent_back.pk}/", "generator sent back", on_page)
        visit(page, "/instructions/", "standing instructions", on_page)
        visit(page, "/instructions/new/", "set a standing instruction", on_page)
        visit(page, f"/instructions/{instruction_with_runs.pk}/", "standing instruction", on_page)
        visit(page, "/transfers/999999/", "404", on_page)

        page = sign_in(manager, **options)
        visit(page, "/generators/new/", "register a generator", on_page)
        visit(page, f"/generators/{sent_back.pk}/edit/", "change a generator", on_page)

        page = sign_in(viewer, **options)
        visit(page, "/certificates/", "viewer dashboard", on_page)
        visit(page, report, "viewer annual report", on_page)
        visit(page, "/generation/uploads/", "viewer generation uploads", on_page)
        visit(page, "/transfers/new/", "403", on_page)
        visit(page, f"/instructions/{instruction_with_runs.pk}/", "viewer standing instruction", on_page)

        signed_out = browser.new_context(**options)
        try:
            visit(signed_out.new_page(), f"/verify/{retirement.reference}/", "verification", on_page)
        finally:
            signed_out.close()

    return walk


@pytest.fixture
def instruction_with_runs(org, trader, manager, staff, generator, account, counterparty):
    """A standing 60% transfer to the counterparty, falling back to one of the organization's
    accounts, that ran on two issuances: once to the counterparty, once (after the organization
    was suspended, and the account closed) skipped."""
    from decimal import Decimal

    from accounts.services import account_close
    from certificates.services import certificate_issue
    from instructions.services import DestinationChoice, instruction_create, instructions_run
    from registry.services import organization_set_status

    from ..factories import AccountFactory

    fallback = AccountFactory(organization=org, name="PPA fallback")
    instruction = instruction_create(
        organization=org, user=trader, generator=generator, from_vintage=ProductionPeriod.month(2026, 1),
        percentage=Decimal(60), irrevocable=True, destinations=[
            DestinationChoice(kind="organization", recipient=counterparty),
            DestinationChoice(kind="own_account", account=fallback)])
    for month in (1, 2):
        certificate = certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2026, month),
                                        quantity=1001, account=account)
        if month == 2:
            organization_set_status(user=staff, organization=counterparty, status="suspended")
            account_close(user=manager, organization=org, account=fallback)
        instructions_run(certificate=certificate)
    organization_set_status(user=staff, organization=counterparty, status="active")
    return instruction


def _generation(org, trader, account):
    """A generation upload with an error, and a month issued, for every_page."""
    import datetime
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile

    from issuance.models import GenerationReport, GenerationUpload, Issuance
    from issuance.services import generation_upload_create, issuance_run

    from ..factories import GeneratorFactory, UserFactory

    upload = generation_upload_create(organization=org, user=trader, upload=SimpleUploadedFile(
        "generation.csv", b"Generator ID,Month,MWh\r\nX1,01/2025,-1\r\n"))
    upload.refresh_from_db()
    assert upload.status == GenerationUpload.Status.FAILED  # run by the eager task after commit
    generator = GeneratorFactory(organization=org, account=account)
    report = GenerationReport.objects.create(generator=generator, month=datetime.date(2025, 1, 1),
                                             mwh=Decimal("1250.4"), submitted_by=trader)
    issuance_run(user=UserFactory(is_staff=True), reports=[report])
    return upload, Issuance.objects.get(report=report)
