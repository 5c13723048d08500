"""Compliance and voluntary programs (a state's RPS, a utility's green pricing program), kept by
registry staff as data: what a retirement option counts toward, and the rules on the certificates
it accepts."""

from django.db import models
from django.utils import timezone

from accounts.models import Account
from registry.models import Organization, User


class Program(models.Model):
    """A program that retirements count toward, for one compliance year, until its close date."""

    class Kind(models.TextChoices):
        COMPLIANCE = "compliance", "Compliance"
        VOLUNTARY = "voluntary", "Voluntary"

    code = models.SlugField(max_length=40, unique=True,
                            help_text="A short, unique name used in links and files, e.g. mn-res-2025.")
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=Kind)
    jurisdiction = models.CharField(max_length=120, help_text="Whose program it is, e.g. Minnesota.")
    compliance_year = models.PositiveSmallIntegerField(null=True, blank=True)
    close_date = models.DateField(null=True, blank=True,
                                  help_text="The last day retirements count toward it; none after.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProgramAccount(models.Model):
    """A retirement account opened for one program: what is retired into it counts toward that
    program, and it freezes when the program closes."""

    account = models.OneToOneField(Account, on_delete=models.PROTECT, primary_key=True, related_name="program_link")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="accounts")

    def __str__(self) -> str:
        return f"{self.account} for {self.program}"


# --- Participants and program administrators (issue #29, item 3) ------------------------------------


class ProgramAdministrator(models.Model):
    """A regulator organization that administers a program: its members (any role) read every
    retirement toward the program, of any organization, and invite organizations to join it. Staff
    assign it in the program's admin page (programs.participation, each change a ledger event)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="administrators")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="programs_administered",
                                     limit_choices_to={"kind": Organization.Kind.REGULATOR},
                                     help_text="A regulator organization (its kind is set on its admin page).")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "organization"], name="program_administrator_once")]
        ordering = ["program__name", "organization__name"]

    def __str__(self) -> str:
        return f"{self.organization.name} administers {self.program}"


class ProgramParticipation(models.Model):
    """An organization invited to join a program (by registry staff or a program administrator), and
    its managers' answer. A joined organization opens the program's retirement accounts."""

    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        JOINED = "joined", "Joined"
        DECLINED = "declined", "Declined"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="participations")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="program_participations")
    status = models.CharField(max_length=16, choices=Status, default=Status.INVITED)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # One row per program and organization: a declined organization is invited again on the same row.
        constraints = [models.UniqueConstraint(fields=["program", "organization"], name="program_participation_once")]
        ordering = ["program__name", "organization__name"]

    def __str__(self) -> str:
        return f"{self.organization.name} in {self.program} ({self.get_status_display().lower()})"
