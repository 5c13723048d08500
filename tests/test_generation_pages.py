"""The participants' generation pages: uploads, reports by month, an issuance; who sees what."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from certificates.models import Generator
from issuance.models import GenerationReport, GenerationReporter, GenerationUpload, Issuance
from issuance.services import issuance_run

from .factories import GeneratorFactory, OrganizationFactory
from .generation import last_month, report

MONTH = last_month(2)


@pytest.fixture
def issued(generator, account, staff, trader):
    Generator.objects.filter(pk=generator.pk).update(account=account)
    generator.refresh_from_db()
    issuance_run(user=staff, reports=[report(generator, MONTH, "1250.4", trader)])
    return Issuance.objects.get()


@pytest.fixture
def upload(org, trader, mass_media):
    return GenerationUpload.objects.create(
        organization=org, uploaded_by=trader, file=SimpleUploadedFile("g.csv", b"x"), filename="g.csv",
        sha256="0" * 64, size=1, status=GenerationUpload.Status.FAILED,
        errors=[{"row": 2, "column": "C (MWh)", "value": "-1", "message": "The generation cannot be negative."}])


def test_the_nav_links_to_generation(signed_in, trader):
    assert 'href="/generation/"' in signed_in(trader).get("/accounts/").content.decode()


@pytest.mark.parametrize("role", ["trader", "manager", "viewer"])
def test_members_read_the_reports_with_what_was_issued(signed_in, issued, request, role):
    page = signed_in(request.getfixturevalue(role)).get("/generation/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "1250.400" in text and issued.serial_range in text
    assert f'href="/generation/issuances/{issued.pk}/"' in text and "0.400 MWh" in text


def test_the_reports_are_filtered_by_month(signed_in, issued, trader, generator):
    report(generator, last_month(1), "7", trader)
    client = signed_in(trader)
    assert client.get("/generation/", {"month": f"{MONTH:%m/%Y}"}).context["page"].paginator.count == 1
    assert client.get("/generation/").context["page"].paginator.count == 2
    wrong = client.get("/generation/", {"month": "13/2024"})
    assert wrong.status_code == 200 and "Correct the month" in wrong.content.decode()


def test_the_htmx_request_gets_the_table_alone(signed_in, issued, trader):
    page = signed_in(trader).get("/generation/", headers={"HX-Request": "true"})
    assert "<h1>" not in page.content.decode() and 'id="reports"' in page.content.decode()


def test_an_outsider_sees_none_of_the_reports(signed_in, issued, outsider):
    page = signed_in(outsider).get("/generation/")
    assert page.context["page"].paginator.count == 0 and "1250.400" not in page.content.decode()


def test_a_reporter_sees_its_reports_but_not_the_owners_issuance(signed_in, issued, outsider, generator):
    reporter = outsider.memberships.get().organization
    GenerationReporter.objects.create(generator=generator, organization=reporter)
    GenerationReport.objects.update(upload=GenerationUpload.objects.create(
        organization=reporter, uploaded_by=outsider, filename="r.csv", sha256="1" * 64, size=1))
    client = signed_in(outsider)
    text = client.get("/generation/").content.decode()
    assert "1250.400" in text and f"/generation/issuances/{issued.pk}/" not in text
    assert client.get(f"/generation/issuances/{issued.pk}/").status_code == 404


@pytest.mark.parametrize("role", ["trader", "viewer"])
def test_the_issuance_page_shows_the_arithmetic_and_the_place_of_the_instructions(signed_in, issued, request, role):
    page = signed_in(request.getfixturevalue(role)).get(f"/generation/issuances/{issued.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "1250.400 MWh" in text and "<strong>1,250</strong>" in text and "0.400 MWh" in text
    assert 'id="instructions"' in text


def test_an_outsider_gets_404_for_an_issuance(signed_in, issued, outsider):
    assert signed_in(outsider).get(f"/generation/issuances/{issued.pk}/").status_code == 404


def test_the_uploads_page_offers_the_template_and_the_form(signed_in, trader):
    client = signed_in(trader)
    text = client.get("/generation/uploads/").content.decode()
    assert 'href="/generation/uploads/template.csv"' in text and 'type="file"' in text
    template = client.get("/generation/uploads/template.csv")
    assert b"".join(template.streaming_content).decode().strip() == "Generator ID,Month,MWh"


def test_a_viewer_reads_the_uploads_page_without_the_form_and_may_not_post(signed_in, viewer, mass_media):
    client = signed_in(viewer)
    page = client.get("/generation/uploads/")
    assert page.status_code == 200 and 'type="file"' not in page.content.decode()
    assert "can upload generation data" in page.content.decode()
    posted = client.post("/generation/uploads/", {"file": SimpleUploadedFile("g.csv", b"Generator ID,Month,MWh\n")})
    assert posted.status_code == 403
    assert GenerationUpload.objects.count() == 0


def test_a_trader_uploads_and_is_taken_to_the_upload(signed_in, trader, generator, mass_media,
                                                     django_capture_on_commit_callbacks):
    content = f"Generator ID,Month,MWh\nM805,{MONTH:%m/%Y},10\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(trader).post("/generation/uploads/", {"file": SimpleUploadedFile("g.csv", content)})
    upload = GenerationUpload.objects.get()
    assert response.status_code == 302 and response.url == f"/generation/uploads/{upload.pk}/"
    upload.refresh_from_db()
    assert upload.status == GenerationUpload.Status.COMPLETED
    page = signed_in(trader).get(response.url).content.decode()
    assert "all 1 rows were recorded" in page or "its one row was recorded" in page
    assert "M805" in page


def test_an_empty_file_is_refused_on_the_form(signed_in, trader, mass_media):
    response = signed_in(trader).post("/generation/uploads/", {"file": SimpleUploadedFile("g.csv", b" \n")})
    assert response.status_code == 200 and "The file is empty." in response.content.decode()


@pytest.mark.parametrize("role", ["trader", "viewer"])
def test_members_see_an_uploads_errors(signed_in, upload, request, role):
    page = signed_in(request.getfixturevalue(role)).get(f"/generation/uploads/{upload.pk}/")
    assert page.status_code == 200 and "The generation cannot be negative." in page.content.decode()


def test_an_outsider_gets_404_for_an_upload(signed_in, upload, outsider):
    assert signed_in(outsider).get(f"/generation/uploads/{upload.pk}/").status_code == 404


def test_a_teammate_of_another_generator_sees_the_past_uploads_only_of_its_organization(signed_in, upload, outsider):
    assert "g.csv" not in signed_in(outsider).get("/generation/uploads/").content.decode()


def test_reports_list_does_not_grow_queries_with_rows(signed_in, trader, org, account, staff,
                                                     django_assert_max_num_queries):
    generators = [GeneratorFactory(organization=org, account=account) for _ in range(5)]
    issuance_run(user=staff, reports=[report(g, MONTH, "3.5", trader) for g in generators])
    OrganizationFactory()
    client = signed_in(trader)
    with django_assert_max_num_queries(12):
        assert client.get("/generation/").status_code == 200
