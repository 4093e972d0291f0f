"""`calltally smtp set|show|test`: the server CallTally sends e-mail through.

``set`` goes through the settings page's form (:class:`calltally.system.forms.MailSettingsForm`),
so the command and the page accept the same settings. The password is never taken from the
command line: ``--password-env NAME`` names the variable that holds it when CallTally runs, or
``--password-file FILE`` stores it encrypted.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import validation_message
from calltally.system.forms import MailSettingsForm
from calltally.system.models import MailSettings, Security
from calltally.system.services import save_settings, test_mail


class Command(BaseCommand):
    help = "Outgoing e-mail (SMTP): set the server, show it, send a test e-mail."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="set|show|test")
        setting = sub.add_parser("set", help="set the SMTP server (every setting at once)")
        setting.add_argument("--host", required=True)
        setting.add_argument("--port", type=int, required=True)
        security = setting.add_mutually_exclusive_group()
        security.add_argument("--starttls", action="store_const", dest="security", const=Security.STARTTLS,
                              help="plain connection upgraded with STARTTLS (port 587)")
        security.add_argument("--tls", action="store_const", dest="security", const=Security.TLS,
                              help="TLS from the start (port 465)")
        setting.add_argument("--no-verify", action="store_true",
                             help="do not check the server's certificate (a self-signed one)")
        setting.add_argument("--username")
        password = setting.add_mutually_exclusive_group()
        password.add_argument("--password-env", metavar="NAME",
                              help="the environment variable holding the password (nothing is stored)")
        password.add_argument("--password-file", metavar="FILE", help="store the password in FILE (encrypted)")
        setting.add_argument("--from", dest="from_address", required=True, metavar="ADDRESS")
        setting.add_argument("--reply-to", metavar="ADDRESS")
        setting.add_argument("--timeout", type=int, metavar="SECONDS")
        sub.add_parser("show", help="the SMTP settings (the password only as set or not)")
        test = sub.add_parser("test", help="send a test e-mail")
        test.add_argument("address")

    def handle(self, *args, **options):
        getattr(self, "do_" + options["action"])(options)

    def do_set(self, options):
        data = {
            "host": options["host"], "port": options["port"], "security": options["security"] or Security.NONE,
            "verify_certificate": not options["no_verify"], "username": options["username"] or "",
            "password_env": options["password_env"] or "", "from_address": options["from_address"],
            "reply_to": options["reply_to"] or "", "timeout": options["timeout"] or MailSettings.load().timeout,
        }
        if options["password_file"]:
            try:
                data["password"] = Path(options["password_file"]).read_text().rstrip("\r\n")
            except OSError as exc:
                raise CommandError(f"cannot read {options['password_file']}: {exc.strerror}") from None
        elif not options["password_env"]:
            data["forget_password"] = True  # every setting at once: no password given means none
        form = MailSettingsForm(data)
        if not form.is_valid():
            raise CommandError(validation_message(ValidationError(form.errors)))
        mail = save_settings(None, form, via="command line")
        self.stdout.write(f"SMTP set: {self.describe(mail)}")

    def do_show(self, options):
        mail = MailSettings.load()
        if not mail.host:
            self.stdout.write("no SMTP server is set up (calltally smtp set --host … --port … --from …)")
            return
        self.stdout.write(self.describe(mail))
        if mail.last_test_at:
            self.stdout.write(f"last test {mail.last_test_at:%Y-%m-%d %H:%M:%S} UTC: "
                              f"{'ok' if mail.last_test_ok else 'FAILED'}: {mail.last_test_message}")

    def do_test(self, options):
        ok, text = test_mail(None, options["address"], via="command line")
        if not ok:
            raise CommandError(f"the test e-mail was not sent: {text}")
        self.stdout.write(text)

    @staticmethod
    def describe(mail: MailSettings) -> str:
        parts = [f"{mail.host}:{mail.port}", mail.get_security_display()]
        if mail.security != Security.NONE and not mail.verify_certificate:
            parts.append("certificate not checked")
        if mail.username:
            source = (f"password from ${mail.password_env}" if mail.password_env
                      else "password stored" if mail.password_sealed else "no password")
            parts.append(f"signs in as {mail.username} ({source})")
        parts.append(f"from {mail.from_address}")
        if mail.reply_to:
            parts.append(f"reply-to {mail.reply_to}")
        return ", ".join(parts)
