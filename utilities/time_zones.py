"""Time zones people choose from, and the one that is in force while a page or an email is written."""

import functools
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.utils import timezone

# The IANA database's own regions; its other names are old aliases (US/Central, EST5EDT, Japan).
REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian",
           "Pacific")


@functools.cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_choices(*, including: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """The zones of each region, for a select grouped by region ("America": "Chicago", "New York",
    "Argentina / Buenos Aires", ...), then UTC; plus `including` (a zone already chosen, perhaps an
    alias) when it is not among them."""
    by_region = {region: [] for region in REGIONS}
    for name in sorted(known_time_zones()):
        region, _, place = name.partition("/")
        if region in by_region and place:
            by_region[region].append((name, place.replace("_", " ").replace("/", " / ")))
    groups = [(region, zones) for region, zones in by_region.items() if zones]
    listed = {name for _, zones in groups for name, _ in zones}
    others = ["UTC", *([including] if including in known_time_zones() and including not in listed | {"UTC"} else [])]
    return [*groups, ("Other", [(name, name) for name in others])]


def validate_time_zone(name: str) -> None:
    if name not in known_time_zones():
        raise ValidationError("“%(name)s” is not a time zone; choose one from the list, e.g. America/Chicago.",
                              code="invalid_time_zone", params={"name": name})


@contextmanager
def in_time_zone(name: str | None) -> Iterator[None]:
    """Dates and times written inside are in the zone `name`; in the default zone (settings.TIME_ZONE)
    when it is empty or no longer known (a zone the installed time zone data dropped)."""
    with timezone.override(name if name in known_time_zones() else None):
        yield
