"""Run an ASGI app on 127.0.0.1 in a background thread, optionally over TLS, and inject faults into it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import uvicorn


@dataclass
class Faults:
    """Fail a share of API calls at random, before they change anything (so a retry is always safe)."""

    rate: float = 0.0
    seed: int = 0
    rng: np.random.Generator = field(init=False)
    injected: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def pick(self, kinds: list[str]) -> str | None:
        """One of `kinds` with probability `rate`, else None."""
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return None
        kind = kinds[int(self.rng.integers(len(kinds)))]
        self.injected[kind] += 1
        return kind


class LocalServer:
    """uvicorn serving `app` on a free port of 127.0.0.1 until stop(); `url` is where it listens."""

    def __init__(self, app, tls_dir: Path | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.certfile: Path | None = None
        options = {}
        if tls_dir is not None:
            self.certfile, keyfile = self_signed_certificate(tls_dir)
            options = {"ssl_certfile": str(self.certfile), "ssl_keyfile": str(keyfile)}
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False, **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.url = f"{'https' if tls_dir else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> LocalServer:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            self.thread.join(0.01)
        raise RuntimeError(f"local server on {self.url} did not start")

    def stop(self) -> None:
        # clients keep connections alive: do not wait for them to hang up
        self.server.should_exit = self.server.force_exit = True
        self.thread.join(10)
        self.sock.close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key; the certificate doubles as the CA bundle clients trust."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "localapi-cert.pem", directory / "localapi-key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certfile, keyfile
