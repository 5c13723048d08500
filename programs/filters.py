"""The Active tab's "Eligible for": the dashboard's batch filters and, by a program's code, the
batches a retirement toward it would be accepted with (programs.selectors.batches_eligible)."""

from django.utils import timezone

from certificates.filters import BatchFilter
from utilities.filters import NamedChoiceFilter

from .models import Program
from .selectors import batches_eligible


class ProgramCodeFilter(NamedChoiceFilter):
    """A program by its code (e.g. mn-res-2025)."""


class ProgramBatchFilter(BatchFilter):
    """BatchFilter, and `program`: the batches the program accepts now (its rules and close date)."""

    program = ProgramCodeFilter(
        queryset=Program.objects.all(), to_field_name="code", method="filter_program", label="Eligible for",
        empty_label="Any program",
        error_messages={"invalid_choice": "No program has the code “%(value)s”; choose one of the programs offered."})

    def filter_program(self, queryset, name, program: Program):
        return batches_eligible(queryset, program=program, now=timezone.now())
