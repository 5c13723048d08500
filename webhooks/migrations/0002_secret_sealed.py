"""The signing secrets, stored in the clear until now, encrypted (webhooks.sealing): the column becomes
text, each row's secret is sealed in place, and the field then seals and opens by itself."""

from django.db import migrations, models

import webhooks.sealing


def _each_secret(apps, change) -> None:
    WebhookEndpoint = apps.get_model("webhooks", "WebhookEndpoint")  # its secret a plain TextField here
    for endpoint in WebhookEndpoint.objects.only("pk", "secret").iterator():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=change(endpoint.secret))


def seal_all(apps, schema_editor) -> None:
    _each_secret(apps, webhooks.sealing.seal)


def unseal_all(apps, schema_editor) -> None:
    _each_secret(apps, webhooks.sealing.unseal)


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        migrations.AlterField("webhookendpoint", "secret", models.TextField(editable=False)),
        migrations.RunPython(seal_all, unseal_all),
        migrations.AlterField("webhookendpoint", "secret", webhooks.sealing.SealedTextField(editable=False)),
    ]
