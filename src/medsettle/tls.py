"""TLS for the server and its clients, from a directory of PEM files as `medsettle certs init` writes them
(or as production's own CA issues them: deploy/README.md).

The server requires a client certificate signed by the directory's ca.pem and names the caller by the one
`medsettle:` URI SAN in it. Rotation needs no restart: gRPC asks `Reloader` before every new handshake, and it
answers with the files' new contents once they changed (and form a valid pair); connections already open keep
the certificate they were made with.
"""

from __future__ import annotations

import pathlib
import threading
from dataclasses import dataclass

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from medsettle import certs
from medsettle.service import identity, logs
from medsettle.service.identity import Caller

SERVER_FILES = (certs.CA_FILE, certs.SERVER_FILE, certs.SERVER_KEY_FILE)


@dataclass(frozen=True)
class ServerFiles:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    def check(self) -> None:
        """Refuse a pair that cannot work (a rotation caught between writing the key and the certificate)."""
        x509.load_pem_x509_certificates(self.ca_pem)
        certificate = x509.load_pem_x509_certificate(self.cert_pem)
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        if key.public_key() != certificate.public_key():
            raise ValueError(f"{certs.SERVER_KEY_FILE} is not the key of {certs.SERVER_FILE}")

    def configuration(self):
        return grpc.ssl_server_certificate_configuration([(self.key_pem, self.cert_pem)],
                                                         root_certificates=self.ca_pem)


def _stamp(directory: pathlib.Path) -> tuple:
    return tuple((stat.st_mtime_ns, stat.st_size, stat.st_ino) for stat in
                 (directory.joinpath(name).stat() for name in SERVER_FILES))


def read_server_files(directory: pathlib.Path) -> ServerFiles:
    missing = [name for name in SERVER_FILES if not (directory / name).is_file()]
    if missing:
        raise SystemExit(f"{directory} lacks {', '.join(missing)} (make a development set with "
                         f"`medsettle certs init --out {directory}`)")
    files = ServerFiles(*((directory / name).read_bytes() for name in SERVER_FILES))
    files.check()
    return files


class Reloader:
    """gRPC's certificate configuration fetcher: called before each new handshake (from gRPC's own threads), it
    returns a new configuration when the files changed, else None (keep the current one)."""

    def __init__(self, directory: pathlib.Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._stamp = _stamp(directory)
        self.initial = read_server_files(directory).configuration()
        self.reloads = 0

    def __call__(self):
        try:
            stamp = _stamp(self.directory)
        except OSError:
            return None  # a file is being replaced: keep serving with what we have
        with self._lock:
            if stamp == self._stamp:
                return None
            try:
                files = read_server_files(self.directory)
            except (OSError, ValueError, SystemExit) as error:
                logs.event("tls_reload_failed", directory=str(self.directory), error=str(error)[:200])
                return None  # tried again at the next handshake; the certificate in use stays
            self._stamp = stamp
            self.reloads += 1
        logs.event("tls_reloaded", directory=str(self.directory), reloads=self.reloads)
        return files.configuration()


def server_credentials(directory: pathlib.Path) -> tuple[grpc.ServerCredentials, Reloader]:
    reloader = Reloader(directory)
    credentials = grpc.dynamic_ssl_server_credentials(reloader.initial, reloader,
                                                      require_client_authentication=True)
    return credentials, reloader


def caller_of_peer(auth_context: dict) -> Caller | None:
    """The caller a verified peer certificate names: its one `medsettle:` URI SAN. None for none, or for several
    (a certificate names exactly one caller)."""
    uris = [value.decode("utf-8", "replace") for value in auth_context.get("peer_uri", ())]
    named = [uri for uri in uris if uri.startswith(identity.URI_PREFIX)]
    return identity.parse(named[0]) if len(named) == 1 else None


FORWARDED_CLIENT_CERT_KEY = "x-forwarded-client-cert"
FORWARDED_CHARS_MAX = 4_096  # an element names a hash, the proxy and a few URIs: well under this


def _forwarded_pairs(element: str) -> list[tuple[str, str]]:
    """The key=value pairs of one x-forwarded-client-cert element (Envoy's format: `;` between pairs, a value that
    holds `,;=` in double quotes with `\"` escaped)."""
    pairs, index = [], 0
    while index < len(element):
        key_end = element.find("=", index)
        if key_end < 0:
            break
        key, index = element[index:key_end].strip(), key_end + 1
        if element.startswith('"', index):
            value, index = [], index + 1
            while index < len(element) and element[index] != '"':
                if element[index] == "\\" and index + 1 < len(element):
                    index += 1
                value.append(element[index])
                index += 1
            pairs.append((key, "".join(value)))
            index = element.find(";", index)
        else:
            end = element.find(";", index)
            pairs.append((key, element[index:] if end < 0 else element[index:end]))
            index = end
        if index < 0:
            break
        index += 1
    return pairs


def caller_forwarded(header: str) -> Caller | None:
    """The caller an x-forwarded-client-cert header names: the one `medsettle:` URI of its last element (the one the
    nearest proxy set; Envoy's SANITIZE_SET leaves only that one). None when there is none, or several."""
    if not header or len(header) > FORWARDED_CHARS_MAX:
        return None
    uris = [value for key, value in _forwarded_pairs(_last_element(header)) if key.lower() == "uri"]
    named = [uri for uri in uris if uri.startswith(identity.URI_PREFIX)]
    return identity.parse(named[0]) if len(named) == 1 else None


def _last_element(header: str) -> str:
    """The last element of a header whose quoted values may hold commas."""
    start, quoted, index = 0, False, 0
    while index < len(header):
        char = header[index]
        if char == "\\" and quoted:
            index += 1
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            start = index + 1
        index += 1
    return header[start:]


def channel_credentials(directory: pathlib.Path, caller: Caller) -> grpc.ChannelCredentials:
    """Client credentials: trust the directory's CA, present the caller's certificate. A development directory
    (one holding ca-key.pem) gets a missing caller certificate made on first use."""
    cert_name, key_name = certs.caller_files(caller)
    if not (directory / cert_name).is_file():
        if not certs.has_authority_key(directory):
            raise SystemExit(f"no certificate for {caller.uri} in {directory} ({cert_name}, {key_name})")
        certs.init(directory, [caller])
    return grpc.ssl_channel_credentials(root_certificates=(directory / certs.CA_FILE).read_bytes(),
                                        private_key=(directory / key_name).read_bytes(),
                                        certificate_chain=(directory / cert_name).read_bytes())
