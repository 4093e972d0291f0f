"""Sending CallTally's e-mail with the settings of :class:`.models.MailSettings`, and saying in
words why it failed: the server refused or could not be reached, TLS failed, the sign-in was
refused, the sender or a recipient was refused.

Plain ``smtplib`` rather than Django's mail backend: each step (connect, STARTTLS, sign in, send)
is taken on its own, so a failure names the step.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from calltally import secretstore

from .models import MailSettings, Security


class MailError(Exception):
    """The mail could not be sent; the message says why, for an administrator."""


def password_of(mail: MailSettings) -> str:
    """The SMTP password: from the variable it names, or opened from its sealed copy."""
    if mail.password_env:
        value = os.environ.get(mail.password_env)
        if value is None:
            raise MailError(f"the password variable {mail.password_env} is not set in CallTally's environment")
        return value
    if mail.password_sealed:
        try:
            return secretstore.decrypt(mail.password_sealed)
        except secretstore.StorageKeyError as exc:
            raise MailError(f"the stored SMTP password cannot be opened: {exc}; enter it again") from None
    return ""


def message(mail: MailSettings, to: list[str], subject: str, body: str) -> EmailMessage:
    """A plain-text message from CallTally's sender."""
    email = EmailMessage()
    email["From"] = mail.from_address
    email["To"] = ", ".join(to)
    if mail.reply_to:
        email["Reply-To"] = mail.reply_to
    email["Subject"] = subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=mail.from_address.rpartition("@")[2] or None)
    email.set_content(body)
    return email


def send(mail: MailSettings, email: EmailMessage) -> None:
    """Send ``email`` through the configured server; :class:`MailError` with the reason if not."""
    if not mail.configured:
        raise MailError("no SMTP server is set up (host and sender address)")
    where = f"{mail.host}:{mail.port}"
    context = ssl.create_default_context()
    if not mail.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    step = "connecting to"
    try:
        if mail.security == Security.TLS:
            client = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout, context=context)
        else:
            client = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
        with client:
            client.ehlo()
            if mail.security == Security.STARTTLS:
                step = "starting TLS with"
                if not client.has_extn("starttls"):
                    raise MailError(f"{where} does not offer STARTTLS; choose TLS from the start (port 465) or "
                                    "no encryption if the server is on a trusted network")
                client.starttls(context=context)
                client.ehlo()
            if mail.username:
                step = "signing in to"
                _sign_in(client, mail.username, password_of(mail))
            step = "sending through"
            client.send_message(email)
    except MailError:
        raise
    except ConnectionRefusedError:
        raise MailError(f"{where} refused the connection: no mail server listens on that port (check the host "
                        "and port, and a firewall)") from None
    except TimeoutError:
        raise MailError(f"{where} did not answer within {mail.timeout} seconds while {step} it (a firewall, "
                        "or the wrong port for this encryption)") from None
    except socket.gaierror:
        raise MailError(f"the host name {mail.host} cannot be resolved") from None
    except ssl.SSLCertVerificationError as exc:
        raise MailError(f"TLS failed with {where}: its certificate is not trusted ({exc.verify_message}); install "
                        "the issuing certificate authority, or turn off certificate checking for a self-signed "
                        "one") from None
    except ssl.SSLError as exc:
        raise MailError(f"TLS failed with {where} ({exc.reason or exc}): the server may expect "
                        f"{'STARTTLS' if mail.security == Security.TLS else 'TLS from the start'} "
                        "instead") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"{where} refused the sign-in as {mail.username}: wrong username or password "
                        f"({_said(exc)})") from None
    except smtplib.SMTPNotSupportedError:
        raise MailError(f"{where} does not accept a sign-in here (offer no AUTH); with STARTTLS or TLS it may, "
                        "or leave the username empty") from None
    except smtplib.SMTPSenderRefused as exc:
        raise MailError(f"{where} refused the sender {mail.from_address} ({_said(exc)})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(exc.recipients)
        raise MailError(f"{where} refused the recipient {refused}") from None
    except smtplib.SMTPServerDisconnected:
        raise MailError(f"{where} closed the connection while {step} it (wrong encryption for this port?)") \
            from None
    except smtplib.SMTPException as exc:
        raise MailError(f"{where} refused the mail while {step} it: {exc}") from None
    except OSError as exc:
        raise MailError(f"cannot reach {where}: {exc.strerror or exc}") from None


def deliver(to: list[str], subject: str, body: str, attachments: list[tuple[str, bytes, str]] = (), *,
            html: str = "", message_id: str = "", headers: dict[str, str] | None = None) -> None:
    """Send a mail with the stored settings (what the Scheduler's reports, alerts and budgets call):
    ``attachments`` as (file name, content, MIME type), ``html`` an HTML alternative of ``body``;
    :class:`MailError` with the reason if it was not sent.

    ``message_id`` (``<…@…>``) names the message for good: a mail sent again after a worker died
    between the server's "accepted" and the record of it carries the same Message-ID, which mail
    clients show once.
    """
    mail = MailSettings.load()
    email = message(mail, to, subject, body)
    if message_id:
        email.replace_header("Message-ID", message_id)
    for name, value in (headers or {}).items():
        email[name] = value
    if html:
        email.add_alternative(html, subtype="html")
    for name, content, mime_type in attachments:
        main, _, sub = mime_type.partition("/")
        email.add_attachment(content, maintype=main, subtype=sub or "octet-stream", filename=name)
    send(mail, email)


def _sign_in(client: smtplib.SMTP, username: str, password: str) -> None:
    """Sign in with one mechanism, not smtplib's every one in turn: a wrong password then counts
    once against the account on the server (and some servers hang up after the first refusal)."""
    if not client.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("AUTH")
    offered = client.esmtp_features["auth"].upper().split()
    client.user, client.password = username, password
    for mechanism, method in (("PLAIN", client.auth_plain), ("LOGIN", client.auth_login),
                              ("CRAM-MD5", client.auth_cram_md5)):
        if mechanism in offered:
            client.auth(mechanism, method, initial_response_ok=mechanism != "CRAM-MD5")
            return
    raise MailError(f"the server offers no sign-in CallTally knows (it offers {' '.join(offered)})")


def send_test(mail: MailSettings, to: str) -> str:
    """Send the test e-mail to ``to``; what to tell the administrator on success."""
    email = message(mail, [to], "CallTally test e-mail",
                    "This is a test e-mail from CallTally. Its SMTP settings work: reports and alerts can be "
                    "sent.\n")
    send(mail, email)
    return f"test e-mail sent to {to} through {mail.host}:{mail.port}"


def _said(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}".strip()
