

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0011_two_factor_kinds'),
    ]

    operations = [
        migrations.AlterField(
            model_name='ledgerevent',
            name='kind',
            field=models.CharField(choices=[('issuance', 'Issuance'), ('split', 'Split'), ('transfer_initiated', 'Transfer initiated'), ('transfer_accepted', 'Transfer accepted'), ('transfer_rejected', 'Transfer rejected'), ('transfer_withdrawn', 'Transfer withdrawn'), ('transfer_expired', 'Transfer expired'), ('export_confirmed', 'Export confirmed'), ('export_rejected', 'Export rejected'), ('retirement', 'Retirement'), ('retirement_privacy', 'Retirement made private or public'), ('account_status', 'Account status changed'), ('organization_status', 'Organization status changed'), ('organization_settings', 'Organization settings changed'), ('member_invited', 'Member invited'), ('invitation_resent', 'Invitation resent'), ('invitation_revoked', 'Invitation revoked'), ('member_joined', 'Member joined'), ('member_role_changed', "Member's role changed"), ('member_removed', 'Member removed'), ('account_opened', 'Account opened'), ('account_renamed', 'Account renamed'), ('generator_registered', 'Generator registered'), ('generator_changed', 'Generator changed'), ('generator_submitted', 'Generator submitted for approval'), ('generator_approved', 'Generator approved'), ('generator_sent_back', 'Generator sent back'), ('instruction_created', 'Standing instruction set'), ('instruction_ended', 'Standing instruction ended'), ('instruction_lifted', "Standing instruction's irrevocable flag lifted"), ('two_factor_on', 'Two-factor sign-in turned on'), ('two_factor_off', 'Two-factor sign-in turned off'), ('program_created', 'Program created'), ('program_changed', 'Program changed'), ('program_retired', 'Program retired')], max_length=32),
        ),
    ]
