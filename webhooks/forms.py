from django import forms

from .models import EventType


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https",
                         help_text="Where the registry POSTs each event: https, reachable from the internet.")
    event_types = forms.MultipleChoiceField(label="Events", choices=EventType.choices,
                                            widget=forms.CheckboxSelectMultiple,
                                            error_messages={"required": "Choose at least one event."})
