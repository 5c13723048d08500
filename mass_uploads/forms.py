from django import forms

from utilities.csv_upload import CsvUploadForm

from .models import MassTransferUpload

KIND_REQUIRED = "Choose whether the file lists transfers or retirements."


class MassUploadForm(CsvUploadForm):
    kind = forms.ChoiceField(label="The file lists", choices=MassTransferUpload.Kind.choices,
                             initial=MassTransferUpload.Kind.TRANSFER, widget=forms.RadioSelect, required=False,
                             error_messages={"invalid_choice": KIND_REQUIRED})
    field_order = ["kind", "file"]

    def clean_kind(self) -> str:
        kind = self.cleaned_data["kind"]
        sent = self.data.getlist("kind") if hasattr(self.data, "getlist") else [self.data.get("kind")]
        # Sent empty, more than once or as a file: no one choice, not "transfers".
        if (not kind and self.data.get("kind") is not None) or len(sent) > 1 or "kind" in self.files:
            raise forms.ValidationError(KIND_REQUIRED)
        return kind or MassTransferUpload.Kind.TRANSFER  # a form without the choice: transfers
