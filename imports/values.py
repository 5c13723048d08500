"""What an import by conversion names, and its one rule (ImportDetails.problems): for the admin's form,
the import file's rows and the service, which asks again under its locks. Imports nothing else of the app."""

import decimal
from dataclasses import dataclass, field

from certificates.generator_services import eligibility_name_problem, tidy
from certificates.models import FUEL_TECHNOLOGIES, FuelType, StateOrProvince, Technology
from certificates.periods import MONTH_HELP, ProductionPeriod
from certificates.serials import parse_serial
from registry.models import Organization, TrackingSystem

SOURCE_ID_MOST = 24  # the generator's id there: it goes into the serial base (64 characters in all)
CAPACITY_MOST = decimal.Decimal("999999.99")

# The import file (one import a row), in this order; the header names them (case and spacing aside).
IMPORT_COLUMNS = ["Source System", "Original Serial Number", "Generator ID", "Generator Name", "Fuel",
                  "Technology", "State", "Capacity (MW)", "Vintage", "Eligibilities", "Quantity",
                  "Recipient Organization ID", "Notes"]


@dataclass(frozen=True)
class ImportDetails:
    """One import as staff give it: the source tracking system, the original serial number there
    (`ABC-MI-01-2009-123-1 to 100`), the generator as known there, its vintage, the eligibilities the
    source gave the certificates, the quantity (the original range's length) and the recipient."""

    tracking_system: TrackingSystem | None
    original_serial: str
    generator_id: str
    generator_name: str
    fuel: str
    technology: str
    state: str
    capacity_mw: decimal.Decimal | None
    period: ProductionPeriod | None
    quantity: int | None
    recipient: Organization | None
    eligibilities: list[str] = field(default_factory=list)
    notes: str = ""

    @property
    def original(self) -> tuple[str, int, int] | None:
        """The original serial as (base, start, end); None if it is not one."""
        return parse_serial(self.original_serial)

    def problems(self, *, recipient_can_receive: bool) -> dict[str, str]:
        """Field -> what is wrong with it; empty when nothing is. Refuses nothing. Whether the recipient
        has an account that can receive (accounts.selectors.organization_can_receive) is the caller's."""
        problems = {}
        if self.tracking_system is None or not self.tracking_system.is_active:
            problems["tracking_system"] = "Choose the tracking system the certificates come from."
        original = self.original
        if original is None:
            problems["original_serial"] = ("Give the serial number as the source wrote it, e.g. "
                                           "MIRECS-123-MI-01-2009-123-1 to 100.")
        elif len(original[0]) > 128:
            problems["original_serial"] = "The original serial's base is at most 128 characters."
        elif original[2] < original[1]:
            problems["original_serial"] = "The original serial range ends before it starts."
        generator_id = tidy(self.generator_id)
        if not generator_id:
            problems["generator_id"] = "Give the generator's ID in the source tracking system."
        elif len(generator_id) > SOURCE_ID_MOST or not all(c.isalnum() or c in "-_." for c in generator_id):
            problems["generator_id"] = (f"A generator ID is at most {SOURCE_ID_MOST} letters, digits, dashes, dots "
                                        "or underscores.")
        if not tidy(self.generator_name):
            problems["generator_name"] = "Give the generator's name."
        if self.fuel not in FuelType.values:
            problems["fuel"] = "Choose the fuel: " + ", ".join(FuelType.labels).lower() + "."
        elif self.technology and self.technology not in FUEL_TECHNOLOGIES[FuelType(self.fuel)]:
            names = ", ".join(Technology(t).label.lower() for t in FUEL_TECHNOLOGIES[FuelType(self.fuel)])
            problems["technology"] = f"A {FuelType(self.fuel).label.lower()} generator's technology is one of: {names}."
        if self.state not in StateOrProvince.values:
            problems["state"] = "Give the state or province as its two-letter postal code, e.g. MN."
        if self.capacity_mw is None or not 0 <= self.capacity_mw <= CAPACITY_MOST:
            problems["capacity_mw"] = "Give the capacity in MW, a number from 0 to 999,999.99."
        if self.period is None:
            problems["period"] = MONTH_HELP
        for name in self.eligibilities:
            if problem := eligibility_name_problem(tidy(name)):
                problems["eligibilities"] = problem
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity < 1:
            problems["quantity"] = "Quantity must be a whole number of at least 1."
        elif original is not None and original[2] - original[1] + 1 != self.quantity:
            problems["quantity"] = (f"The original serials hold {original[2] - original[1] + 1:,} certificates, not "
                                    f"{self.quantity:,}.")
        if self.recipient is None:
            problems["recipient"] = "Choose the organization the certificates are for."
        elif not self.recipient.is_active:
            problems["recipient"] = f"{self.recipient.name} is suspended and cannot receive certificates."
        elif not recipient_can_receive:
            problems["recipient"] = f"{self.recipient.public_id} has no account that can receive certificates yet."
        return problems
