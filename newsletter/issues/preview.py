"""The preview an admin opens before a send: the issue's HTML and text, and one complete message."""

from __future__ import annotations

from pathlib import Path

from newsletter.errors import OutputError
from newsletter.issues.render import RenderedIssue
from newsletter.mail.recipient import Recipient

SAMPLE_ADDRESS = "reader@example.com"


def sample_recipient(base_url: str) -> Recipient:
    """A recipient who is nobody: example.com is reserved, and the token opens no one's subscription."""
    base = base_url.rstrip("/")
    return Recipient(0, SAMPLE_ADDRESS, f"{base}/unsubscribe?token=preview", f"{base}/manage?token=preview")


def write_preview(folder: Path, rendered: RenderedIssue, recipient: Recipient,
                  message: bytes) -> dict[str, Path]:
    """Write issue.html, issue.txt and `recipient`'s issue.eml into `folder`; returns the paths by name."""
    html, text = rendered.filled(recipient.address, recipient.unsubscribe_url, recipient.manage_url)
    paths = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in {"issue.html": html.encode(), "issue.txt": text.encode(), "issue.eml": message}.items():
            paths[name] = folder / name
            paths[name].write_bytes(content)
    except OSError as error:
        raise OutputError(f"the preview into {folder}", error.strerror or type(error).__name__,
                          "choose a folder you can write to (`preview --out FOLDER`)") from None
    return paths
