import pytest
from playwright.sync_api import expect

from certificates.models import CertificateBatch

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
    assert "more than the batch holds" in errors.nth(0).inner_text()
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
    page.select_option("select[name=account]", str(second_account.pk))
    moved = CertificateBatch.objects.get(account=second_account, certificate=wind.certificate)
    expect(page.locator("#batches")).to_contain_text(moved.serial_number)
    assert moved.serial_number.endswith("-1 to 400")
    screenshot(page, "dashboard")
