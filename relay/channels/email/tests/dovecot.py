"""A private Dovecot IMAP server on loopback for the IMAP poller's tests (Debian's dovecot-imapd).

`Dovecot(tmp_path)` writes a minimal configuration (a passwd-file with one user and a plaintext
password, maildirs, no TLS, a log file), runs `dovecot -F -c <conf>` on a free 127.0.0.1 port, waits
until the port answers and stops the server when the `with` block ends. Run as root, Dovecot's own
unprivileged accounts serve the login and the mail (it refuses to do either as root); otherwise
everything runs as the current user.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest
from imapclient import IMAPClient

DOVECOT = "/usr/sbin/dovecot"
USER = "relay"
PASSWORD = "relay-imap-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_dovecot() -> str:
    path = DOVECOT if os.access(DOVECOT, os.X_OK) else shutil.which("dovecot")
    if not path:
        pytest.fail(
            "The IMAP tests run a real IMAP server and need Dovecot: run `apt-get install dovecot-imapd` "
            "(.ci/run installs it when missing).",
            pytrace=False,
        )
    return path


class Dovecot:
    host = "127.0.0.1"
    user = USER
    password = PASSWORD

    def __init__(self, tmp_path: Path, *, tls: bool = False) -> None:
        self.binary = require_dovecot()
        self.root = tmp_path / "dovecot"
        self.port = free_port()
        # with tls: a self-signed certificate for 127.0.0.1 (`cert`, to trust), STARTTLS on `port` and
        # implicit TLS on `ssl_port`
        self.tls = tls
        self.ssl_port = free_port() if tls else 0
        self.cert = self.root / "cert.pem"
        self.log = self.root / "dovecot.log"
        self.process: subprocess.Popen[bytes] | None = None
        # sockets live under base_dir and a unix socket path has at most 107 bytes: a short directory
        # of its own instead of one under pytest's long tmp_path
        self.base_dir = Path(tempfile.mkdtemp(prefix="relay-dovecot-"))

    def _accounts(self) -> tuple[str, str, int, int]:
        """(login user, internal user, mail uid, mail gid)."""
        if os.geteuid() == 0:
            mail = pwd.getpwnam("dovecot")
            return "dovenull", "dovecot", mail.pw_uid, mail.pw_gid
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid

    def _config(self) -> str:
        login_user, internal_user, uid, gid = self._accounts()
        as_root = os.geteuid() == 0
        mail = self.mail_dir
        return f"""
base_dir = {self.base_dir}/run
state_dir = {self.base_dir}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
{self._ssl()}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{mail}/%u
default_internal_user = {internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name}
default_login_user = {login_user}
first_valid_uid = {min(uid, 100)}
first_valid_gid = 0
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 1 mins
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%u
}}
service imap-login {{
  {"" if as_root else "chroot ="}
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.ssl_port}
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  {"user = root" if as_root else ""}
}}
service auth-worker {{
  {"user = root" if as_root else ""}
}}
"""

    def _ssl(self) -> str:
        if not self.tls:
            return "ssl = no"
        key = self.root / "key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(self.cert),
            ],
            check=True,
            capture_output=True,
        )
        return f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{key}"

    @property
    def mail_dir(self) -> Path:
        # the mail is read and written as the mail user: under base_dir, which that user can reach
        return self.base_dir / "mail"

    def start(self) -> Dovecot:
        self.root.mkdir(parents=True, exist_ok=True)
        for folder in ("run", "state", "mail"):
            (self.base_dir / folder).mkdir()
        _, _, uid, gid = self._accounts()
        if os.geteuid() == 0:
            os.chmod(self.base_dir, 0o755)
            os.chown(self.mail_dir, uid, gid)
        (self.root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        conf = self.root / "dovecot.conf"
        conf.write_text(self._config())
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(conf)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: `stop` ends the master and its children at once
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace") if self.process.stdout else ""
                self.process = None
                pytest.fail(f"Dovecot did not start:\n{output}\n{self.log_text()}", pytrace=False)
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"Dovecot did not answer on {self.host}:{self.port}:\n{self.log_text()}", pytrace=False)

    def stop(self) -> None:
        if self.process is not None:
            # SIGKILL to the group: a SIGTERM makes the master wait about a second for its children, on
            # every test; its state is a temporary folder nobody reads again
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
            if self.process.stdout:
                self.process.stdout.close()
            self.process = None
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no log)"

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- a client, as a mail server delivering into the mailbox would -----------------------------------

    def client(self) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> int:
        """Put a message into a folder with IMAP APPEND; its UID."""
        with self.client() as client:
            if folder != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw)
        # b"[APPENDUID <uidvalidity> <uid>] Append completed"
        return int(response.split(b"]")[0].split()[-1])

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.client() as client:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def recreate(self, folder: str) -> None:
        """Delete a folder and create it again: the server gives it a new UIDVALIDITY."""
        with self.client() as client:
            client.delete_folder(folder)
            client.create_folder(folder)
