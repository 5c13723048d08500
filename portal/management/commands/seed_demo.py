"""A believable demo registry, built through the services (so the ledger is sound).

`--batches N` adds N live batches to one organization in bulk, for the benchmarks.
"""

import datetime
import decimal
import random

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from certificates.generator_services import (
    EligibilityDetails,
    GeneratorDetails,
    eligibility_record,
    generator_register,
    generator_send_back,
    generator_submit,
)
from certificates.models import (
    FUEL_TECHNOLOGIES,
    Certificate,
    CertificateBatch,
    FuelType,
    Generator,
    Technology,
    eligibility_names,
)
from certificates.periods import ProductionPeriod
from certificates.selectors import generator_eligibilities
from certificates.services import certificate_issue, serial_base_for
from imports.services import import_record
from imports.values import ImportDetails
from ledger.models import LedgerEvent
from ledger.services import ledger_event, ledger_write
from programs.models import Program
from programs.participation import (
    participation_decide,
    participation_invite,
    program_account_open,
    program_administrator_add,
)
from programs.services import program_create
from registry.models import Membership, Organization, TrackingSystem, User
from registry.services import organization_set_kind
from retirements.models import RetirementOption
from retirements.services import RetirementDetails, retirement_create
from transfers.models import Transfer
from transfers.services import (
    Destination,
    TransferLine,
    export_confirm,
    export_reject,
    transfer_accept,
    transfer_create,
    transfer_reject,
    transfer_withdraw,
    transfers_expire,
)

PASSWORD = "demo"
STAFF_EMAIL = "staff@registry.example"
ORGANIZATIONS = [
    ("Prairie Wind Energy", "prairiewind.example", ["Main active", "Trading", "Reserve pool"]),
    ("Lakeshore Power Cooperative", "lakeshore.example", ["Compliance", "Voluntary sales"]),
    ("Northstar REC Brokers", "northstar.example", ["Brokerage", "Client holdings"]),
]
TRACKING_SYSTEMS = [
    ("WREGIS", "Western Renewable Energy Generation Information System"),
    ("NAR", "North American Renewables Registry"),
    ("PJM-GATS", "PJM Generation Attribute Tracking System"),
    ("MIRECS", "Michigan Renewable Energy Certification System"),
    ("NC-RETS", "North Carolina Renewable Energy Tracking System"),
]
Option = RetirementOption
# (name, type, main reason, state or province, needs a compliance period, needs a beneficiary)
RETIREMENT_OPTIONS = [
    ("Minnesota RES", Option.Type.STATE_RPS, Option.Reason.COMPLIANCE, "MN", True, False),
    ("Iowa Alternative Energy Law", Option.Type.STATE_RPS, Option.Reason.COMPLIANCE, "IA", True, False),
    ("Illinois RPS", Option.Type.STATE_RPS, Option.Reason.COMPLIANCE, "IL", True, False),
    ("Manitoba Clean Energy Standard", Option.Type.STATE_RPS, Option.Reason.COMPLIANCE, "MB", True, False),
    ("Minneapolis Clean Energy Partnership", Option.Type.MUNICIPAL_RPS, Option.Reason.COMPLIANCE, "MN", True,
     False),
    ("Utility Green Pricing Program", Option.Type.UTILITY_GREEN_PRICING, Option.Reason.VOLUNTARY, "", True, True),
    ("Green-e Energy certified sale", Option.Type.GREEN_E, Option.Reason.VOLUNTARY, "", True, True),
    ("Beneficial ownership claim", Option.Type.BENEFICIAL_OWNERSHIP, Option.Reason.VOLUNTARY, "", False, True),
    ("Federal agency renewable goal (EO 14057)", Option.Type.FEDERAL, Option.Reason.COMPLIANCE, "", True, True),
    ("Voluntary claim", Option.Type.VOLUNTARY_CLAIM, Option.Reason.VOLUNTARY, "", False, False),
]
# Programs kept as data (#29), each with the retirement option that counts toward it:
# (program, its rules, the note of its first rules, the option's own fields).
PROGRAMS = [
    ({"code": "mn-res-2025", "name": "Minnesota RES 2025", "kind": "compliance", "jurisdiction": "Minnesota",
      "compliance_year": 2025, "close_date": None},
     {"vintage_years_before": 4, "fuels": ["wind", "solar", "hydro"], "states": ["MN"]},
     "Minn. Stat. 216B.1691: vintages no older than four years before the compliance year.",
     {"type": Option.Type.STATE_RPS, "reason": Option.Reason.COMPLIANCE, "state": "MN",
      "requires_compliance_period": True}),
    ({"code": "tc-green-power-2026", "name": "Twin Cities Green Power 2026", "kind": "voluntary",
      "jurisdiction": "Minneapolis and Saint Paul", "compliance_year": 2026, "close_date": datetime.date(2027, 3, 31)},
     {"vintage_from": datetime.date(2024, 1, 1), "fuels": ["wind", "solar"], "states": ["MN", "WI"],
      "eligibilities": ["Green-e"]},
     "Green-e certified wind and solar from Minnesota and Wisconsin, 2024 on.",
     {"type": Option.Type.UTILITY_GREEN_PRICING, "reason": Option.Reason.VOLUNTARY, "requires_beneficiary": True}),
]
# (owner index, code, name, fuel, state, capacity MW, eligibilities)
GENERATORS = [
    (0, "M805", "Prairie Ridge Wind", FuelType.WIND, "MN", 150, ["MN RES", "Green-e"]),
    (0, "M812", "Buffalo Ridge Wind II", FuelType.WIND, "MN", 99, ["MN RES", "Green-e"]),
    (0, "M833", "Mower County Solar", FuelType.SOLAR, "MN", 60, ["MN RES", "MN SES", "Green-e"]),
    (0, "M841", "Red River Wind", FuelType.WIND, "ND", 200, ["Green-e"]),
    (0, "M857", "Cedar Valley Solar", FuelType.SOLAR, "IA", 45, ["IA AEP", "Green-e"]),
    (1, "M906", "St. Croix Falls Hydro", FuelType.HYDRO, "WI", 25, ["WI RPS"]),
    (1, "M911", "Fox River Biomass", FuelType.BIOMASS, "WI", 30, ["WI RPS"]),
    (1, "M923", "Calumet Landfill Gas", FuelType.LANDFILL_GAS, "IL", 8, ["IL RPS"]),
    (1, "M930", "Grand Traverse Solar", FuelType.SOLAR, "MI", 40, ["MI RPS", "Green-e"]),
    (1, "M948", "Thumb Wind", FuelType.WIND, "MI", 120, ["MI RPS"]),
]
CAPACITY_FACTOR = {FuelType.WIND: 0.38, FuelType.SOLAR: 0.2, FuelType.HYDRO: 0.5,
                   FuelType.BIOMASS: 0.7, FuelType.LANDFILL_GAS: 0.85}
FIRST_VINTAGE = datetime.date(2024, 1, 1)
# The demo regulator (#29): Minnesota's PUC administers Minnesota RES 2025 (of PROGRAMS).
REGULATOR = ("Minnesota Public Utilities Commission", "puc.example")
REGULATED_PROGRAM = "mn-res-2025"


def months(start: datetime.date, count: int, step: int = 1) -> list[ProductionPeriod]:
    result, year, month = [], start.year, start.month
    for _ in range(count):
        result.append(ProductionPeriod.month(year, month))
        month += step
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return result


def user(email: str, full_name: str, **fields) -> User:
    existing = User.objects.filter(email=email).first()
    if existing:
        return existing
    return User.objects.create_user(email=email, password=PASSWORD, full_name=full_name, **fields)


class Command(BaseCommand):
    help = "Seed the demo registry once (users' password: demo); --batches N scales one organization."

    def add_arguments(self, parser):
        parser.add_argument("--batches", type=int, default=0, help="add N live batches in bulk")
        parser.add_argument("--organization", default="Prairie Wind Energy",
                            help="name or MM id of the organization --batches scales")
        parser.add_argument("--seed", type=int, default=2024)

    def handle(self, *args, batches, organization, seed, **options):
        random.seed(seed)
        if not Organization.objects.filter(name=ORGANIZATIONS[0][0]).exists():
            # Each service call is a transaction of its own (they are durable), so the seed is not one
            # transaction: if it stops halfway, `make clean` and run again.
            self.seed_registry()
            self.stdout.write(self.style.SUCCESS("Seeded the demo registry."))
        else:
            self.stdout.write("Demo registry already seeded.")
        if batches:
            org = Organization.objects.filter(name=organization).first() or \
                Organization.objects.filter(public_id=organization).first()
            if org is None:
                raise CommandError(f"No organization {organization!r}.")
            started = timezone.now()
            with transaction.atomic():
                made = self.scale(org, batches)
            seconds = (timezone.now() - started).total_seconds()
            self.stdout.write(self.style.SUCCESS(f"Added {made:,} live batches to {org} in {seconds:.1f} s."))
        self.print_users()

    def print_users(self):
        self.stdout.write("Demo users (password 'demo'):")
        self.stdout.write(f"  {STAFF_EMAIL:<34} registry staff (admin site)")
        for membership in Membership.objects.select_related("user", "organization").order_by(
                "organization__name", "role"):
            self.stdout.write(f"  {membership.user.email:<34} {membership.role:<8} "
                              f"{membership.organization.name} ({membership.organization.public_id})")

    def seed_registry(self):
        staff = user(STAFF_EMAIL, "Registry Staff", is_staff=True, is_superuser=True)
        for code, name in TRACKING_SYSTEMS:
            TrackingSystem.objects.get_or_create(code=code, defaults={"name": name})
        for name, kind, reason, state, needs_period, needs_beneficiary in RETIREMENT_OPTIONS:
            RetirementOption.objects.get_or_create(name=name, defaults=dict(
                type=kind, reason=reason, state=state, requires_compliance_period=needs_period,
                requires_beneficiary=needs_beneficiary))
        for fields, rules, note, option in PROGRAMS:
            program = program_create(user=staff, fields=fields, rules=rules, note=note)
            RetirementOption.objects.create(name=fields["name"], program=program, **option)
        orgs, traders, accounts = [], [], []
        for name, domain, account_names in ORGANIZATIONS:
            org = Organization.objects.create(name=name, contact_email=f"registry@{domain}")
            orgs.append(org)
            for role, person in (("manager", "Morgan"), ("trader", "Taylor"), ("viewer", "Vic")):
                member = user(f"{role}@{domain}", f"{person} {name.split()[0]}")
                Membership.objects.create(user=member, organization=org, role=role)
            traders.append(User.objects.get(email=f"trader@{domain}"))
            accounts.append([Account.objects.create(organization=org, name=n) for n in account_names])
            Account.objects.create(organization=org, name="Retirements", type=Account.Type.RETIREMENT)

        generators = [
            Generator.objects.create(organization=orgs[owner], code=code, name=name, fuel_type=fuel, state=state,
                                     technology=FUEL_TECHNOLOGIES[fuel][0], account=accounts[owner][0],
                                     status=Generator.Status.APPROVED, reviewed_at=timezone.now(),
                                     capacity_mw=capacity,
                                     eligibilities=eligibilities, commissioned_on=datetime.date(2012 + i, 1 + i, 1))
            for i, (owner, code, name, fuel, state, capacity, eligibilities) in enumerate(GENERATORS)
        ]
        for generator in generators:
            self.seed_eligibilities(generator, staff)
        self.seed_registrations(orgs[0], accounts[0][0], staff)
        for generator in generators:
            owner_index = orgs.index(generator.organization)
            hours = 730 * CAPACITY_FACTOR[generator.fuel_type]
            for period in months(FIRST_VINTAGE, 24):
                seasonal = 0.75 + 0.5 * random.random()
                certificate_issue(user=staff, generator=generator, period=period,
                                  quantity=max(1, int(float(generator.capacity_mw) * hours * seasonal)),
                                  account=accounts[owner_index][0])

        def active(org_index):
            return list(CertificateBatch.objects.filter(account__organization=orgs[org_index], status="active")
                        .order_by("?")[:60])

        def lines(batch, share):
            return [TransferLine(batch.pk, max(1, int(batch.quantity * share)))]

        tracking = TrackingSystem.objects.get(code="WREGIS")
        for sender in (0, 1):
            org, trader = orgs[sender], traders[sender]
            # Internal moves spread holdings over the accounts.
            for i, batch in enumerate(active(sender)[:40]):
                target = accounts[sender][1 + i % (len(accounts[sender]) - 1)]
                transfer_create(organization=org, user=trader, lines=lines(batch, random.choice([0.25, 0.5, 1])),
                                destination=Destination.internal(target), notes="Rebalancing holdings")
            pool = iter(active(sender))
            other = orgs[1 - sender]
            # Sales to the other organizations, in every outcome.
            for buyer_index in (1 - sender, 2):
                buyer = orgs[buyer_index]
                sale = transfer_create(organization=org, user=trader, lines=lines(next(pool), 0.4),
                                       destination=Destination.to_organization(buyer), notes="Bilateral REC sale")
                transfer_accept(transfer=sale, user=traders[buyer_index], organization=buyer,
                                account=accounts[buyer_index][0])
            transfer_create(organization=org, user=trader, lines=lines(next(pool), 0.3),
                            destination=Destination.to_organization(orgs[2]), notes="Q4 delivery, awaiting broker")
            rejected = transfer_create(organization=org, user=trader, lines=lines(next(pool), 0.2),
                                       destination=Destination.to_organization(other), notes="Wrong vintage?")
            transfer_reject(transfer=rejected, user=traders[1 - sender], organization=other,
                            note="We contracted for 2025 vintages.")
            withdrawn = transfer_create(organization=org, user=trader, lines=lines(next(pool), 0.1),
                                        destination=Destination.to_organization(orgs[2]))
            transfer_withdraw(transfer=withdrawn, user=trader, organization=org)
            stale = transfer_create(organization=org, user=trader, lines=lines(next(pool), 0.15),
                                    destination=Destination.to_organization(other), notes="Spot sale")
            Transfer.objects.filter(pk=stale.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=90))
            # Exports out of the platform.
            for outcome in ("pending", "confirmed", "rejected"):
                export = transfer_create(
                    organization=org, user=trader, lines=lines(next(pool), 0.5),
                    destination=Destination.export(tracking, "Cascade Northwest Utility", "W-20931"),
                    notes="Export for a WECC buyer")
                if outcome == "confirmed":
                    export_confirm(transfer=export, user=staff, note="WREGIS confirmation 88123")
                elif outcome == "rejected":
                    export_reject(transfer=export, user=staff, note="Receiving account closed")
            # Retirements for compliance.
            retirement_account = Account.objects.get(organization=org, type=Account.Type.RETIREMENT)
            compliance = RetirementDetails(option=RetirementOption.objects.get(name="Minnesota RES"),
                                           compliance_period=2025, period_start=datetime.date(2025, 1, 1),
                                           period_end=datetime.date(2025, 12, 31))
            voluntary = RetirementDetails(option=RetirementOption.objects.get(name="Green-e Energy certified sale"),
                                          compliance_period=2025, beneficiary="Twin Cities Public Library")
            for batch, details in [(next(pool), compliance), (next(pool), voluntary)]:
                retirement_create(organization=org, user=trader, lines=lines(batch, 0.5), account=retirement_account,
                                  details=details, notes="Annual retirement")
            batch = next(pool)
            Transfer.objects.create(organization=org, created_by=trader, status=Transfer.Status.DRAFT,
                                    draft={"lines": [{"batch": batch.pk, "quantity": batch.quantity}]})
            Transfer.objects.create(organization=org, created_by=trader, status=Transfer.Status.FAILED,
                                    decision_note="A selected batch changed before confirmation.",
                                    draft={"lines": [{"batch": batch.pk, "quantity": 1}]})
        self.seed_regulator(staff, orgs, traders)
        self.seed_imports(staff, orgs[1])
        transfers_expire()

    def seed_regulator(self, staff: User, orgs: list[Organization], traders: list[User]) -> None:
        """Minnesota's PUC (regulator@puc.example) administers Minnesota RES 2025; Prairie Wind joined it
        and retired into its program account, Lakeshore's invitation waits for an answer."""
        program = Program.objects.get(code=REGULATED_PROGRAM)
        name, domain = REGULATOR
        puc = Organization.objects.create(name=name, contact_email=f"registry@{domain}")
        organization_set_kind(user=staff, organization=puc, kind=Organization.Kind.REGULATOR)
        Membership.objects.create(user=user(f"regulator@{domain}", "Rae Regulator"), organization=puc,
                                  role=Membership.Role.MANAGER)
        program_administrator_add(user=staff, program=program, organization=puc)
        prairie, lakeshore = orgs[0], orgs[1]
        joined = participation_invite(user=staff, program=program, organization=prairie)
        participation_invite(user=staff, program=program, organization=lakeshore)
        manager = Membership.objects.get(organization=prairie, role=Membership.Role.MANAGER).user
        participation_decide(user=manager, participation=joined, join=True)
        account = program_account_open(user=manager, participation=joined, name="MN RES 2025 compliance")
        batch = (CertificateBatch.objects.filter(account__organization=prairie, status="active",
                                                 certificate__generator__code="M805")  # MN wind: the program takes it
                 .order_by("pk").first())
        retirement_create(organization=prairie, user=traders[0], lines=[TransferLine(batch.pk, batch.quantity // 2)],
                          account=account, notes="Minnesota RES 2025 filing",
                          details=RetirementDetails(option=RetirementOption.objects.get(program=program),
                                                    compliance_period=2025))

    def seed_imports(self, staff: User, recipient: Organization) -> None:
        """Two imports by conversion from MIRECS for Lakeshore: one it accepted, one on its Pending tab."""
        michigan = TrackingSystem.objects.get(code="MIRECS")
        for serial, month in (("MIRECS-123-MI-01-2024-77-1 to 400", 1), ("MIRECS-123-MI-02-2024-81-1 to 250", 2)):
            record = import_record(user=staff, details=ImportDetails(
                tracking_system=michigan, original_serial=serial, generator_id="123", generator_name="Thumb Wind",
                fuel="wind", technology="onshore_wind", state="MI", capacity_mw=decimal.Decimal("99.5"),
                period=ProductionPeriod.month(2024, month), quantity=int(serial.rsplit(" ", 1)[1]),
                recipient=recipient, eligibilities=["MI RPS"], notes="Retired in MIRECS for Lakeshore"))
            if month == 1:
                trader = User.objects.get(email="trader@lakeshore.example")
                transfer_accept(transfer=record.transfer, user=trader, organization=recipient,
                                account=Account.objects.of(recipient).open_active().first())

    def seed_eligibilities(self, generator: Generator, staff: User) -> None:
        """Staff recorded what each generator claims, with a certification number, from before the first
        vintage. M841's Green-e ends within the reminder's days (staff are emailed of it); M923's IL RPS
        ended in mid-2025 (its later months' certificates do not carry it)."""
        for index, name in enumerate(generator.eligibilities):
            good_through = {("M841", "Green-e"): timezone.localdate() + datetime.timedelta(days=20),
                            ("M923", "IL RPS"): datetime.date(2025, 6, 30)}.get((generator.code, name))
            start = min(generator.commissioned_on, FIRST_VINTAGE)
            eligibility_record(user=staff, generator=generator, details=EligibilityDetails(
                name=name, start_date=start, certification_number=f"{generator.state}-{generator.code}-{index + 1:02d}",
                verified_on=start, good_through=good_through))

    def seed_registrations(self, org: Organization, account: Account, staff: User) -> None:
        """Generators the organization's manager registered: one awaiting staff's approval, one sent back."""
        manager = Membership.objects.get(organization=org, role=Membership.Role.MANAGER).user
        for name, fuel, technology, capacity, note in [
                ("Lake Benton Solar", FuelType.SOLAR, Technology.SOLAR_PV, "80", None),
                ("Pipestone Wind", FuelType.WIND, Technology.ONSHORE_WIND, "49.9",
                 "The interconnection agreement gives 45 MW: correct the capacity or attach the amendment.")]:
            generator = generator_register(user=manager, organization=org, details=GeneratorDetails(
                name=name, fuel_type=fuel, technology=technology, capacity_mw=decimal.Decimal(capacity), state="MN",
                commissioned_on=datetime.date(2025, 6, 1), eligibilities=["MN RES", "Green-e"], account=account))
            generator_submit(user=manager, organization=org, generator=generator)
            if note:
                generator_send_back(user=staff, generator=generator, note=note)

    def scale(self, org: Organization, count: int) -> int:
        """Bulk issuance and splitting: N live batches, with issuance and split ledger events."""
        staff = User.objects.filter(is_staff=True).order_by("pk").first()
        generators = list(org.generators.all()) or [
            Generator.objects.create(organization=org, code=f"B{org.pk:03d}", name=f"{org.name} Wind",
                                     fuel_type=FuelType.WIND, state="MN", eligibilities=["Green-e"],
                                     status=Generator.Status.APPROVED, reviewed_at=timezone.now())
        ]
        accounts = list(Account.objects.of(org).open_active())
        recorded = generator_eligibilities(generator.pk for generator in generators)
        per_certificate = 500
        made = 0
        taken = set(Certificate.objects.filter(generator__in=generators).values_list("generator_id", "period"))
        candidates = ((g, v) for v in months(datetime.date(2023, 12, 1), 600, step=-1) for g in generators)
        while made < count:
            plan = []
            for generator, vintage in candidates:
                if (generator.pk, vintage) in taken:
                    continue
                sizes = [random.randint(50, 5000) for _ in range(min(per_certificate, count - made))]
                plan.append((generator, vintage, sizes))
                made += len(sizes)
                if made >= count or len(plan) >= 40:
                    break
            if not plan:
                raise CommandError("No vintages left to issue for this organization.")
            certificates = Certificate.objects.bulk_create([
                Certificate(generator=g, period=v, quantity=sum(s), serial_base=serial_base_for(g, v),
                            fuel_type=g.fuel_type, state=g.state, eligibilities=eligibility_names(recorded[g.pk], v),
                            issued_by=staff)
                for g, v, s in plan
            ])
            parents = CertificateBatch.objects.bulk_create([
                CertificateBatch(certificate=c, account=accounts[0], serial_start=1, serial_end=c.quantity,
                                 quantity=c.quantity, status=CertificateBatch.Status.SUPERSEDED)
                for c in certificates
            ])
            children, events = [], []
            for (_, _, sizes), certificate, parent in zip(plan, certificates, parents, strict=True):
                start = 1
                mine = []
                for size in sizes:
                    mine.append(CertificateBatch(certificate=certificate, account=random.choice(accounts),
                                                 serial_start=start, serial_end=start + size - 1, quantity=size,
                                                 parent=parent))
                    start += size
                children += mine
                issued = parent.snapshot() | {"status": "active"}
                events.append(ledger_event(kind=LedgerEvent.Kind.ISSUANCE, actor=staff, organization=org,
                                           certificate=certificate, batch=parent, account=accounts[0], after=issued))
            CertificateBatch.objects.bulk_create(children, batch_size=5000)
            offset = 0
            for (_, _, sizes), certificate, parent in zip(plan, certificates, parents, strict=True):
                mine = children[offset:offset + len(sizes)]
                offset += len(sizes)
                events.append(ledger_event(
                    kind=LedgerEvent.Kind.SPLIT, actor=staff, organization=org, certificate=certificate,
                    batch=parent, before=parent.snapshot() | {"status": "active"},
                    after={"children": [child.snapshot() for child in mine]}, note="Bulk demo seed"))
            ledger_write(events)
        return made
