"""What a program's rules read of a batch, and how a refusal is worded: value types that import
nothing else of the app (ProgramRules.problems and the mass validator read the same words)."""

from dataclasses import dataclass

from django.utils.text import get_text_list

from certificates.models import FuelType, StateOrProvince, Technology
from certificates.periods import ProductionPeriod


@dataclass(frozen=True, slots=True)
class BatchFacts:
    """What a program's rules look at in a batch (programs.selectors.batch_facts reads them)."""

    batch_id: int
    serial_number: str
    period: ProductionPeriod
    fuel_type: str
    technology: str
    state: str
    eligibilities: tuple[str, ...]
    generator_code: str


# The batch's value each list rule reads (ProgramRules._checks names the same rules, with their lookups).
ATTRIBUTE = {"fuel": "fuel_type", "technology": "technology", "state": "state", "generator": "generator_code"}


def batch_accepted(rule: str, accepted: list[str], batch: BatchFacts) -> bool:
    """Whether a list rule accepts the batch: any of its eligibilities, or its value, is accepted."""
    if rule == "eligibility":
        return not set(accepted).isdisjoint(batch.eligibilities)
    return getattr(batch, ATTRIBUTE[rule]) in accepted


def _label(choices, value: str) -> str:
    return choices(value).label if value in choices.values else value


def _either(words: list[str]) -> str:
    return get_text_list(words, "or")


def batch_refused(rule: str, accepted: list[str], batch: BatchFacts, *, program: str) -> str:
    """Why `program` refuses the batch under a list rule, naming the rule and the batch."""
    serial = batch.serial_number
    if rule == "fuel":
        fuels = [_label(FuelType, fuel).lower() for fuel in accepted]
        return f"{serial} is {_label(FuelType, batch.fuel_type).lower()}; {program} accepts {_either(fuels)}."
    if rule == "technology":
        technologies = _either([_label(Technology, technology).lower() for technology in accepted])
        if not batch.technology:
            return f"{serial}'s generator names no technology; {program} accepts {technologies}."
        return (f"{serial}'s technology is {_label(Technology, batch.technology).lower()}; {program} accepts "
                f"{technologies}.")
    if rule == "state":
        places = _either([_label(StateOrProvince, state) for state in accepted])
        return f"{serial} is from {_label(StateOrProvince, batch.state)}; {program} accepts certificates from {places}."
    if rule == "eligibility":
        return f"{serial} carries none of the eligibilities {program} requires ({_either(accepted)})."
    generators = "generator" if len(accepted) == 1 else "generators"
    return (f"{serial} is from generator {batch.generator_code}; {program} accepts only {generators} "
            f"{_either(accepted)}.")
