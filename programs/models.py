"""Compliance and voluntary programs (a state's RPS, a utility's green pricing program), kept by
registry staff as data: what a retirement option counts toward, and the rules on the certificates
it accepts."""

from django.db import models
from django.utils import timezone

from accounts.models import Account


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
