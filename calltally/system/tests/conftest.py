"""A real SMTP server for the mail tests (aiosmtpd, on a free loopback port), with optional
sign-in, STARTTLS or TLS from the start, and a throwaway self-signed certificate."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from dataclasses import dataclass, field

import pytest

USERNAME, PASSWORD = "reports@example.org", "smtp pass word"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and its key, as files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "calltally-test-smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address(
                "127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("smtp-cert")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


@dataclass
class MailServer:
    port: int
    messages: list = field(default_factory=list)
    logins: list = field(default_factory=list)


@pytest.fixture
def smtp_server(certificate):
    """Starts aiosmtpd: ``smtp_server(auth=False, starttls=False, tls=False)`` → a MailServer whose
    ``messages`` are the mails received (email.message.Message) and ``logins`` the sign-ins tried."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message
    from aiosmtpd.smtp import AuthResult

    controllers = []

    def start(auth: bool = False, starttls: bool = False, tls: bool = False) -> MailServer:
        server = MailServer(port=free_port())

        class Keep(Message):
            def handle_message(self, message):
                server.messages.append(message)

        def authenticator(smtp, session, envelope, mechanism, data):
            login, password = data.login.decode(), data.password.decode()
            server.logins.append(login)
            # handled=False: aiosmtpd answers the refusal itself (535).
            return AuthResult(success=(login, password) == (USERNAME, PASSWORD), handled=False)

        context = None
        if starttls or tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
        kwargs = {"hostname": "127.0.0.1", "port": server.port}
        if tls:
            kwargs["ssl_context"] = context
        elif starttls:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = False
        if auth:
            kwargs.update(authenticator=authenticator, auth_require_tls=False)
        controller = Controller(Keep(), **kwargs)
        controller.start()
        controllers.append(controller)
        return server

    yield start
    for controller in controllers:
        controller.stop()
