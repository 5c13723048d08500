import pytest
from playwright.sync_api import expect

from certificates.models import CertificateBatch
from mass_uploads.models import MassTransferUpload

from ..conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_template_errors_then_a_good_file_completes(worker, sign_in, trader, holdings, second_account,
                                                    screenshot, tmp_path):
    page = sign_in(trader)
    page.click("text=Upload")
    page.wait_for_url("**/transfers/mass/")
    with page.expect_download() as download_info:
        page.click("text=Mass Certificate Transfers Template")
    template = open(download_info.value.path(), encoding="utf-8", newline="").read()
    assert template == "Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"

    wind, solar = holdings["wind"], holdings["solar"]
    bad = tmp_path / "bad.csv"
    bad.write_text(template + f"{wind.serial_number},5000,,{second_account.public_id},\r\n"
                              f"{solar.serial_number},10,,,\r\n")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('Upload')")
    expect(page.locator("#upload-status")).to_have_attribute("data-status", "failed", timeout=60_000)
    errors = page.locator("#upload-errors tbody tr")
    expect(errors).to_have_count(2)
    assert f"Quantity 5,000 is more than batch {wind.serial_number} holds" in errors.nth(0).inner_text()
    assert "Fill in Organization ID" in errors.nth(1).inner_text()
    screenshot(page, "errors")

    good = tmp_path / "good.csv"
    good.write_text(template + f"{wind.serial_number},400,,{second_account.public_id},Move to trading\r\n")
    page.goto(page.url.rsplit("/transfers/", 1)[0] + "/transfers/mass/")
    page.set_input_files("input[type=file]", str(good))
    page.click("button:has-text('Upload')")
    expect(page.locator("#upload-status")).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(page.locator("#upload-transfers tbody tr")).to_have_count(1)
    screenshot(page, "completed")

    page.click("text=Certificates")
    page.select_option("select[name=account]", second_account.public_id)
    moved = CertificateBatch.objects.get(account=second_account, certificate=wind.certificate)
    expect(page.locator("#batches")).to_contain_text(moved.serial_number)
    assert moved.serial_number.endswith("-1 to 400")
    screenshot(page, "dashboard")


@pytest.mark.parametrize("java_script, width", [(True, 1280), (False, 390)])
def test_a_retirement_file_with_errors_then_a_good_one_retires(
        worker, sign_in, trader, holdings, retirement_account, screenshot, tmp_path, java_script, width):
    from retirements.models import Retirement

    from ..factories import RetirementOptionFactory

    RetirementOptionFactory()
    page = sign_in(trader, java_script_enabled=java_script, viewport={"width": width, "height": 900})
    page.goto(page.url.rsplit("/certificates/", 1)[0] + "/transfers/mass/")
    screenshot(page, "page")
    with page.expect_download() as download_info:
        page.click("text=Mass Certificate Retirements Template")
    template = open(download_info.value.path(), encoding="utf-8", newline="").read()
    assert template.startswith("Serial Number,Quantity,Retirement Account ID,Option,Compliance Period,")

    def upload(content, status):
        path = tmp_path / f"{status}.csv"
        path.write_text(template + content)
        page.check("label:has-text('Retirements') input")
        page.set_input_files("input[type=file]", str(path))
        page.click("button:has-text('Upload')")
        if not java_script:  # the page does not poll: reload it once the worker is done, as a person would
            page.locator("#upload-status").wait_for()  # the form's answer has arrived; reloading earlier races it
            unfinished = MassTransferUpload.objects.filter(status__in=("queued", "processing"))
            wait_for(lambda: not unfinished.exists(), 60, "the worker did not finish the upload")
            page.reload()
        expect(page.locator("#upload-status")).to_have_attribute("data-status", status, timeout=60_000)

    wind = holdings["wind"]
    upload(f"{wind.serial_number},10,{retirement_account.public_id},Minnesota RES,,,,,\r\n"
           f"{wind.serial_number},10,{retirement_account.public_id},Texas RPS,2025,,,,\r\n", "failed")
    errors = page.locator("#upload-errors tbody tr")
    expect(errors).to_have_count(2)
    assert "Minnesota RES needs a compliance period" in errors.nth(0).inner_text()
    assert "not one of the registry's retirement options" in errors.nth(1).inner_text()
    expect(page.locator("#upload-status")).to_contain_text("nothing was retired")
    screenshot(page, "errors")

    page.goto(page.url.rsplit("/transfers/", 1)[0] + "/transfers/mass/")
    upload(f"{wind.serial_number},250,{retirement_account.public_id},Minnesota RES,2025,City of Duluth,"
           "2025-01-01,2025-12-31,Q4 filing\r\n", "completed")
    expect(page.locator("#upload-transfers tbody tr")).to_have_count(1)
    expect(page.locator("h2", has_text="Retirements made")).to_be_visible()
    screenshot(page, "completed")
    retirement = Retirement.objects.get()
    assert (retirement.beneficiary, retirement.transfer.items.get().batch.serial_number[-8:]) == (
        "City of Duluth", "1 to 250")
