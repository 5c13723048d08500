"""The public statistics' pages, no sign-in: certificates by month and the other dimensions, with a
chart, a table and a CSV of the same rows; the approved generators, with a chart, a table and a
CSV. Rate-limited per address as the retirement verification page is (utilities.throttle)."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import number_format

from certificates.models import FuelType, StateOrProvince, Technology
from certificates.units import mwh_plain, mwh_text
from utilities.charts import bar_chart
from utilities.csv_export import csv_response
from utilities.htmx import htmx_partial
from utilities.replica import reads_may_lag
from utilities.throttle import public_page_refused

from .forms import GeneratorForm, StatisticsForm
from .selectors import GROUPINGS, generators_by_fuel, generators_public, statistics_rows, statistics_total
from .values import Activity, StatisticsQuery

GENERATORS_PER_PAGE = 50


def _refused(request: HttpRequest) -> HttpResponse | None:
    return public_page_refused(request, scope="statistics", limit=settings.STATISTICS_REQUESTS_PER_MINUTE)


def _asked(request: HttpRequest) -> tuple[str, StatisticsForm, StatisticsQuery, str]:
    """The activity (a tab), the filters' form, the query it makes (every filter it refuses left
    out) and the grouping the query string asks for."""
    activity = request.GET.get("activity", "")
    activity = activity if activity in Activity.values else Activity.ISSUED
    form = StatisticsForm(request.GET or None)
    data = {}
    if form.is_bound:
        form.is_valid()  # what is right counts; what is not is left out, and said on the page
        data = {name: value for name, value in form.cleaned_data.items() if name not in form.errors}
    by = data.get("by") or "month"
    return activity, form, StatisticsForm.query(data, activity), by


@reads_may_lag
def statistics(request: HttpRequest) -> HttpResponse:
    """/statistics/: the certificates of one activity (a tab), counted by month or another dimension."""
    if refused := _refused(request):
        return refused
    activity, form, query, by = _asked(request)
    rows = statistics_rows(query, by=by)
    label = Activity(activity).label.lower()
    chart = bar_chart([(row.label, row.quantity, mwh_text(row.quantity)) for row in rows])
    context = {
        "form": form, "activity": activity, "activity_label": label, "by": by, "by_label": GROUPINGS[by],
        "tabs": Activity.choices, "rows": rows, "chart": chart, "total": statistics_total(query),
        "eligibility_note": by == "eligibility" or bool(query.eligibility),
        "chart_title": f"Certificates {label} by {GROUPINGS[by].lower()}, in MWh",
        "chart_description": f"A bar for each {GROUPINGS[by].lower()} of the table below, as long as the MWh {label}.",
    }
    template = "public_stats/statistics.html"
    if htmx_partial(request) and request.htmx.target == "results":
        template += "#results"
    return render(request, template, context)


STATISTICS_CSV_HEADER = ["Activity", "Count by", "Key", "Label", "Certificates (MWh)"]


@reads_may_lag
def statistics_csv(request: HttpRequest) -> HttpResponse:
    """The page's rows, as CSV."""
    if refused := _refused(request):
        return refused
    activity, _, query, by = _asked(request)
    rows = ([activity, by, row.key, row.label, mwh_plain(row.quantity)] for row in statistics_rows(query, by=by))
    return csv_response(f"statistics-{activity}-by-{by}.csv", STATISTICS_CSV_HEADER, rows)


def _generators_asked(request: HttpRequest) -> tuple[GeneratorForm, object]:
    form = GeneratorForm(request.GET or None)
    return form, generators_public(form.query())


@reads_may_lag
def generators(request: HttpRequest) -> HttpResponse:
    """/statistics/generators/: the approved generators, what they are and where, never whose."""
    if refused := _refused(request):
        return refused
    form, found = _generators_asked(request)
    by_fuel = generators_by_fuel(form.query())
    chart = bar_chart([(row["label"], row["capacity"],
                        f"{number_format(row['capacity'].normalize(), force_grouping=True)} MW") for row in by_fuel])
    page = Paginator(found, GENERATORS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "chart": chart, "by_fuel": by_fuel,
               "count": sum(row["count"] for row in by_fuel)}
    template = "public_stats/generators.html"
    if htmx_partial(request) and request.htmx.target == "results":
        template += "#results"
    return render(request, template, context)


GENERATORS_CSV_HEADER = ["Generator ID", "Name", "Fuel", "Technology", "State or province", "Capacity (MW)",
                         "Commercial operation date"]


def generator_row(generator) -> list:
    """A generator as the CSV (and the API, by the same labels) gives it: its public fields only."""
    return [generator.code, generator.name, FuelType(generator.fuel_type).label,
            Technology(generator.technology).label if generator.technology else "",
            StateOrProvince(generator.state).label, generator.capacity_text,
            generator.commissioned_on.isoformat() if generator.commissioned_on else ""]


@reads_may_lag
def generators_csv(request: HttpRequest) -> HttpResponse:
    if refused := _refused(request):
        return refused
    _, found = _generators_asked(request)
    return csv_response("generators.csv", GENERATORS_CSV_HEADER,
                        (generator_row(generator) for generator in found.iterator(chunk_size=2000)))
