"""What tests of member invitations share: sending the invitation emails, and reading the link
from the email, as only the invited address's reader can."""

import re

from django.core import mail

from notifications.services import sending

LINK = re.compile(r"https://aftersale\.test(/join/([A-Za-z0-9_-]+)/)")
PASSWORD = "moonlit-harbour-42"


def send_emails() -> None:
    sending.send_due()


def emailed_link(to: str) -> str:
    """The path of the link in the latest email to this address (sent now if still queued);
    the text and HTML parts carry the same one."""
    send_emails()
    emails = [email for email in mail.outbox if email.to == [to]]
    assert emails, f"no email to {to}"
    email = emails[-1]
    found = {match.group(1) for match in LINK.finditer(email.body)}
    assert len(found) == 1, email.body
    assert {m.group(1) for m in LINK.finditer(email.alternatives[0].content)} == found
    return found.pop()


def token_of(link: str) -> str:
    return link.strip("/").split("/")[-1]


def invite(client, slug: str, email: str, role: str = "staff"):
    return client.post(f"/app/{slug}/settings/members/invite/", {"email": email, "role": role})


# Where the emailed link leads once its token is in the session.
ACCEPT = "/join/accept/"


def open_link(client, link: str):
    """Follow the emailed link: its token goes into the session, the page is at ACCEPT."""
    response = client.get(link)
    assert response.status_code == 302 and response.url == ACCEPT, response.status_code
    return client.get(ACCEPT)


def choose_password(client, link: str, password: str = PASSWORD):
    """Open the link and choose the password on its page; a dead link's own answer else."""
    response = client.get(link)
    if response.status_code != 302:
        return response
    return client.post(response.url, {"new_password1": password, "new_password2": password})
