"""`medsettle certs init`: a development certificate authority and the certificates of a server and its callers.

Files in the directory (PEM):
  ca.pem, ca-key.pem                    the CA (made once; later runs reuse it to add callers)
  server.pem, server-key.pem            the server (SAN DNS localhost, IP 127.0.0.1)
  <kind>-<id>.pem, <kind>-<id>-key.pem  one per caller, the caller in one URI SAN medsettle:<kind>:<id>
                                        (institution-H44010200001.pem, province-440000-key.pem, national-clearing.pem)

Keys are ECDSA P-256: a handshake costs less than with RSA, and making a certificate takes about a millisecond.
Private keys are written 0600. Production brings its own CA (deploy/README.md); this one is for development,
tests and the demo nation.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pathlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from medsettle.service.identity import Caller

CA_FILE, CA_KEY_FILE = "ca.pem", "ca-key.pem"
SERVER_FILE, SERVER_KEY_FILE = "server.pem", "server-key.pem"
CA_DAYS = 3650
LEAF_DAYS = 825  # what browsers accept for a leaf; a development directory outlives most checkouts
CLOCK_SKEW = dt.timedelta(minutes=5)  # a certificate made now is valid on a peer whose clock is a little behind
SERVER_NAMES = ("localhost",)
SERVER_IPS = ("127.0.0.1", "::1")


def caller_files(caller: Caller) -> tuple[str, str]:
    """(certificate, key) file names of a caller: institution-H44010200001.pem, institution-H44010200001-key.pem."""
    stem = f"{caller.kind}-{caller.id}"
    return f"{stem}.pem", f"{stem}-key.pem"


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write(path: pathlib.Path, data: bytes, *, private: bool = False) -> None:
    """Written whole or not at all (a reader, e.g. a server reloading on rotation, never sees half a file)."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def new_authority(name: str = "medsettle development CA", days: int = CA_DAYS) -> Authority:
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "medsettle"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = _now()
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(certificate, key)


def issue(authority: Authority, *, common_name: str, names: Iterable[x509.GeneralName], server: bool,
          not_before: dt.datetime | None = None, not_after: dt.datetime | None = None,
          days: int = LEAF_DAYS) -> tuple[bytes, bytes]:
    """A leaf certificate and its new key, as PEM. `server`: for TLS servers, else for clients."""
    key = _key()
    now = _now()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "medsettle"),
                                 x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(authority.certificate.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - CLOCK_SKEW).not_valid_after(not_after or now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()), critical=False)
        .sign(authority.key, hashes.SHA256())
    )
    return _pem(certificate), _key_pem(key)


def issue_server(authority: Authority, **validity) -> tuple[bytes, bytes]:
    names = [x509.DNSName(name) for name in SERVER_NAMES] + [x509.IPAddress(ipaddress.ip_address(ip))
                                                              for ip in SERVER_IPS]
    return issue(authority, common_name="medsettle server", names=names, server=True, **validity)


def issue_caller(authority: Authority, caller: Caller, **validity) -> tuple[bytes, bytes]:
    return issue(authority, common_name=caller.uri, names=[x509.UniformResourceIdentifier(caller.uri)], server=False,
                 **validity)


def load_authority(directory: pathlib.Path) -> Authority:
    certificate = x509.load_pem_x509_certificate((directory / CA_FILE).read_bytes())
    key = serialization.load_pem_private_key((directory / CA_KEY_FILE).read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey), "a development CA's key is ECDSA"
    assert key.public_key() == certificate.public_key(), f"{CA_KEY_FILE} is not the key of {CA_FILE}"
    return Authority(certificate, key)


def has_authority_key(directory: pathlib.Path) -> bool:
    return (directory / CA_KEY_FILE).is_file()


def init(directory: pathlib.Path, callers: Iterable[Caller] = ()) -> list[str]:
    """Make what is missing: the CA (or reuse the one there), the server's certificate, each caller's. Existing
    certificates are kept. Returns the names of the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    if (directory / CA_FILE).exists():
        if not has_authority_key(directory):
            raise SystemExit(f"{directory / CA_FILE} has no {CA_KEY_FILE} beside it: this directory's CA is not one "
                             f"medsettle can add certificates with (production CAs issue their own)")
        authority = load_authority(directory)
    else:
        authority = new_authority()
        _write(directory / CA_KEY_FILE, _key_pem(authority.key), private=True)
        _write(directory / CA_FILE, _pem(authority.certificate))
        written += [CA_FILE, CA_KEY_FILE]
    wanted = [((SERVER_FILE, SERVER_KEY_FILE), lambda: issue_server(authority))]
    wanted += [(caller_files(caller), (lambda c=caller: issue_caller(authority, c))) for caller in callers]
    for (cert_name, key_name), make in wanted:
        if (directory / cert_name).exists() and (directory / key_name).exists():
            continue
        cert_pem, key_pem = make()
        _write(directory / key_name, key_pem, private=True)  # the key first: a certificate is never without its key
        _write(directory / cert_name, cert_pem)
        written += [cert_name, key_name]
    return written
