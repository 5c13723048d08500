"""Hourly matching under real parallel transactions: two Match requests for one site at once match
each hour once, and two uploads of one interval record it once (issue 33, item 4)."""

import pytest

from certificates.models import CertificateBatch
from ledger.verification import ledger_breaches
from matching.models import ConsumptionReading, MatchingStatement
from matching.services import consumption_record, match_run, site_register
from registry.services import ServiceError
from retirements.models import Retirement

from .factories import GeneratorFactory
from .matching import consumption, consumption_csv, hourly_batch
from .test_matching import records_of
from .threads import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def attempt(call):
    """The call's result, or the refusal it raised."""
    def _attempt():
        try:
            return call()
        except ServiceError as refusal:
            return refusal
    return _attempt


def test_two_matches_of_one_site_at_once_match_each_hour_once(org, trader, staff, account, retirement_account,
                                                             no_wakeups):
    site = site_register(organization=org, user=trader, code="METER-1", name="Duluth plant")
    for n in range(24):
        for _ in range(2):
            generator = GeneratorFactory(organization=org, granular=True, account=account)
            hourly_batch(staff=staff, generator=generator, account=account, n=n, wh=700)
    consumption(site, trader, {n: 1000 for n in range(24)})

    results = at_once(attempt(lambda: match_run(organization=org, user=trader, site=site,
                                                account=retirement_account)))

    statements = [result for result in results if isinstance(result, MatchingStatement)]
    refusals = [result for result in results if not isinstance(result, MatchingStatement)]
    assert len(statements) == 1 and len(refusals) == 1, results
    assert "no consumption left to match" in str(refusals[0])
    assert MatchingStatement.objects.count() == Retirement.objects.count() == 1
    assert sum(CertificateBatch.objects.filter(status="retired").values_list("quantity", flat=True)) == 24 * 1000
    assert set(ConsumptionReading.objects.values_list("matched_wh", flat=True)) == {1000}
    assert ledger_breaches() == []


def test_two_uploads_of_one_interval_at_once_record_it_once(org, trader):
    site_register(organization=org, user=trader, code="METER-1", name="Duluth plant")
    records = records_of(consumption_csv("METER-1", {0: 10}))

    results = at_once(attempt(lambda: consumption_record(organization=org, user=trader, records=records)))

    assert sorted(str(result) for result in results) == [
        "1", "1 problem in the consumption data; nothing was recorded."]
    assert ConsumptionReading.objects.count() == 1
