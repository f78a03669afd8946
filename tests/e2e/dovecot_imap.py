"""A private Dovecot IMAP server on loopback for tests: its own configuration, state, log and mail folders,
one user with a password, plain IMAP on a free port of 127.0.0.1, started by the test in the foreground
(`dovecot -F -c FILE`) and stopped with SIGTERM. The machine's Dovecot, if any, is not touched. Its
folders live outside pytest's (root-only) temporary folders, because Dovecot's users must reach them."""

from __future__ import annotations

import contextlib
import imaplib
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.processes import free_port, wait_for, wait_or_kill

USER, PASSWORD = "returns", "imap-test-password"
MAIL_UID = 65534  # nobody: Dovecot refuses to open mail as root

CONFIG = """\
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {folder}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={folder}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass
class ImapServer:
    port: int
    folder: Path

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def dovecot_imap() -> Iterator[ImapServer]:
    folder = Path(tempfile.mkdtemp(prefix="newsletter-dovecot-"))
    folder.chmod(0o755)
    port = free_port()
    (folder / "mail").mkdir()
    shutil.chown(folder / "mail", MAIL_UID, MAIL_UID)
    (folder / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    config = folder / "dovecot.conf"
    config.write_text(CONFIG.format(folder=folder, port=port, uid=MAIL_UID))
    with (folder / "stderr.log").open("wb") as errors:
        process = subprocess.Popen(["dovecot", "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=errors)
    server = ImapServer(port, folder)

    def answers() -> bool:
        assert process.poll() is None, f"Dovecot exited:\n{(folder / 'stderr.log').read_text()}\n{server.log()}"
        try:
            server.client().logout()
        except (OSError, imaplib.IMAP4.error):
            return False
        return True

    try:
        wait_for(answers, "Dovecot to answer IMAP", 30)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        wait_or_kill(process)
        shutil.rmtree(folder, ignore_errors=True)
