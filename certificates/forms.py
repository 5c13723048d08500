from django import forms

from accounts.models import Account
from registry.models import Organization

from .generator_services import CAPACITY_NOT_A_NUMBER, GeneratorDetails
from .models import FUEL_TECHNOLOGIES, FuelType, Generator, StateOrProvince

# The technologies under their fuel (an <optgroup> each): the list works without JavaScript, and the
# registration service checks the pair.
TECHNOLOGY_CHOICES = [("", "Choose a technology"), *[
    (FuelType(fuel).label, [(technology.value, technology.label) for technology in technologies])
    for fuel, technologies in FUEL_TECHNOLOGIES.items()]]
STATE_CHOICES = [("", "Choose a state or province"),
                 *[(code, f"{label} ({code})") for code, label in StateOrProvince.choices]]


class GeneratorForm(forms.Form):
    """A generator as its organization's manager registers or changes it. It reads the input; the
    registration services (certificates.generator_services) hold the rules and say what is wrong."""

    name = forms.CharField(label="Name", max_length=200,
                           error_messages={"required": "Give the generator a name.",
                                           "max_length": "A generator's name is at most 200 characters."})
    fuel_type = forms.ChoiceField(label="Fuel type", choices=[("", "Choose a fuel type"), *FuelType.choices],
                                  error_messages={"required": "Choose a fuel type.",
                                                  "invalid_choice": "Choose a fuel type."})
    technology = forms.ChoiceField(label="Technology", choices=TECHNOLOGY_CHOICES,
                                   error_messages={"required": "Choose a technology.",
                                                   "invalid_choice": "Choose a technology from the list."})
    capacity_mw = forms.DecimalField(label="Capacity (MW)",
                                     help_text="Nameplate capacity in megawatts, e.g. 150 or 2.5",
                                     error_messages={"required": "Give the capacity in MW.",
                                                     "invalid": CAPACITY_NOT_A_NUMBER})
    state = forms.ChoiceField(label="State or province", choices=STATE_CHOICES,
                              error_messages={
                                  "required": "Choose a state or province.",
                                  "invalid_choice": "Choose a US state or Canadian province from the list."})
    commissioned_on = forms.DateField(label="Commercial operation date", required=False,
                                      widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                      help_text="YYYY-MM-DD; needed to submit it for approval",
                                      error_messages={"invalid": "Give the commercial operation date as YYYY-MM-DD."})
    eligibilities = forms.CharField(label="Eligibilities claimed", required=False, max_length=500,
                                    help_text="Programs its certificates should count toward, separated by commas, "
                                              "e.g. MN RES, Green-e. Registry staff verify each and record it with "
                                              "its certification number; certificates carry those recorded.")
    granular = forms.BooleanField(label="Granular (hourly) generator", required=False,
                                  help_text="Report its generation per interval of at most an hour, in Wh; a "
                                            "certificate is issued for each interval (EnergyTag granular "
                                            "certificates). Otherwise per month, in MWh.")
    emissions_factor = forms.DecimalField(label="Emissions factor (gCO2e/kWh)", required=False,
                                          help_text="Carried by its certificates, e.g. 0 for wind or 11.5",
                                          error_messages={"invalid": "Give the emissions factor as a number, "
                                                                     "e.g. 0 or 11.5."})
    emissions_factor_source = forms.CharField(label="Source of the emissions factor", required=False,
                                              max_length=200,
                                              help_text="E.g. IPCC 2014 lifecycle median, or the verifier's report",
                                              error_messages={"max_length": "The emissions factor's source is at "
                                                                            "most 200 characters."})
    account = forms.ModelChoiceField(label="Issuance account", queryset=Account.objects.none(), required=False,
                                     empty_label="Choose later",
                                     help_text="The open active account its certificates are issued into; "
                                               "needed to submit it for approval",
                                     error_messages={"invalid_choice": "Choose one of your open active accounts."})

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        self.fields["account"].queryset = Account.objects.of(organization).open_active().order_by("name")

    @classmethod
    def initial_of(cls, generator: Generator) -> dict:
        return {"name": generator.name, "fuel_type": generator.fuel_type, "technology": generator.technology,
                "capacity_mw": generator.capacity_text, "state": generator.state,
                "commissioned_on": generator.commissioned_on, "eligibilities": ", ".join(generator.eligibilities),
                "account": generator.account_id, "granular": generator.granular,
                "emissions_factor": generator.emissions_factor,
                "emissions_factor_source": generator.emissions_factor_source}

    def details(self) -> GeneratorDetails:
        data = self.cleaned_data
        return GeneratorDetails(
            name=data["name"], fuel_type=data["fuel_type"], technology=data["technology"],
            capacity_mw=data["capacity_mw"], state=data["state"], commissioned_on=data["commissioned_on"],
            eligibilities=data["eligibilities"].split(","), account=data["account"], granular=data["granular"],
            emissions_factor=data["emissions_factor"], emissions_factor_source=data["emissions_factor_source"])
