"""A private Postfix on loopback for tests: its own configuration, queue and data folders, started by the
test with `postfix -c DIR start-fg` and stopped with `postfix -c DIR stop`; the machine's Postfix, if any,
is not touched.

It accepts mail from 127.0.0.1 on `port`, and hands each domain in `routes` to `[127.0.0.1]:PORT` (an
SMTP server of the test's, or the newsletter's inbound listener). It tries each delivery once
(`maximal_queue_lifetime = 0`), so a temporary refusal is given up on at once and reported to the
envelope sender in a delivery status notification, as a relay does after days of retries. Its folders
live outside pytest's (root-only) temporary folders, because Postfix's own user must reach them.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.processes import free_port, wait_for, wait_or_kill

SERVICES = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

SETTINGS = """\
compatibility_level = 3.6
queue_directory = {folder}/queue
data_directory = {folder}/data
myhostname = relay.postfix.test
mydomain = postfix.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
transport_maps = inline:{{ {routes} }}
default_transport = error:no route in this test
smtp_dns_support_level = disabled
maximal_queue_lifetime = 0
bounce_queue_lifetime = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtputf8_enable = no
maillog_file = /dev/stdout
"""


class PostfixRelay:
    """One running private Postfix; `log()` is what it logged."""

    def __init__(self, folder: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.folder, self.port, self._process = folder, port, process

    def log(self) -> str:
        return (self.folder / "maillog").read_text(errors="replace")


@contextlib.contextmanager
def postfix_relay(routes: Mapping[str, int | str]) -> Iterator[PostfixRelay]:
    """Postfix on a free port of 127.0.0.1, relaying each domain of `routes` to 127.0.0.1 at its port over
    SMTP (or by the Postfix transport written out, such as `lmtp:inet:127.0.0.1:PORT`)."""
    folder = Path(tempfile.mkdtemp(prefix="newsletter-postfix-"))
    folder.chmod(0o755)
    port = free_port()
    for name in ("etc", "queue", "data"):
        (folder / name).mkdir()
    shutil.chown(folder / "data", "postfix")
    (folder / "etc" / "master.cf").write_text(SERVICES.format(port=port))
    table = ", ".join(f"{domain}={to if isinstance(to, str) else f'smtp:[127.0.0.1]:{to}'}"
                      for domain, to in routes.items())
    (folder / "etc" / "main.cf").write_text(SETTINGS.format(folder=folder, routes=table))
    config = ["postfix", "-c", str(folder / "etc")]
    with (folder / "maillog").open("wb") as log:
        process = subprocess.Popen([*config, "start-fg"], stdout=log, stderr=subprocess.STDOUT)
    relay = PostfixRelay(folder, port, process)
    try:
        wait_for(lambda: process.poll() is not None or "daemon started" in relay.log(), "Postfix to start", 30)
        assert process.poll() is None, f"Postfix did not start:\n{relay.log()}"
        yield relay
    finally:
        subprocess.run([*config, "stop"], capture_output=True, timeout=30, check=False)
        wait_or_kill(process)
        shutil.rmtree(folder, ignore_errors=True)
