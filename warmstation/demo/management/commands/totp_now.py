import pyotp
from django.core.management.base import BaseCommand, CommandError

from warmstation.accounts.models import User
from warmstation.demo.data import DEMO_ACCOUNTS


class Command(BaseCommand):
    help = "Print the current TOTP code of a DEMO admin account (refuses any other account)."

    def add_arguments(self, parser):
        parser.add_argument("mobile")

    def handle(self, *args, mobile, **options):
        secrets = {m: t for m, _n, _r, _a, _d, t in DEMO_ACCOUNTS if t}
        if mobile not in secrets:
            raise CommandError("Only the demo admin accounts (docs/demo.md) have a printable code.")
        user = User.objects.filter(mobile=mobile, totp_secret__isnull=False).first()
        if user is None or user.totp_secret != secrets[mobile]:
            raise CommandError("That demo account is not loaded or its secret was changed.")
        self.stdout.write(pyotp.TOTP(user.totp_secret).now())
