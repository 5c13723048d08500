import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Generators get the account their certificates are issued into, and a registration status. Those that exist were onboarded by registry staff, so
    they are approved; a generator registered from now on starts as a draft."""

    dependencies = [("accounts", "0001_initial"), ("certificates", "0003_drop_duplicate_account_index")]

    operations = [
        migrations.AddField(
            model_name="generator", name="account",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="accounts.account", verbose_name="issuance account"),
        ),
        migrations.AddField(
            model_name="generator", name="status",
            field=models.CharField(choices=[("draft", "Draft"), ("submitted", "Submitted for approval"),
                                            ("approved", "Approved"), ("returned", "Sent back")],
                                   default="approved", max_length=16),
        ),
        migrations.AlterField(
            model_name="generator", name="status",
            field=models.CharField(choices=[("draft", "Draft"), ("submitted", "Submitted for approval"),
                                            ("approved", "Approved"), ("returned", "Sent back")],
                                   default="draft", max_length=16),
        ),
    ]
