"""The worker's sign-in page: a resend inside the 60 s lock keeps the code step (the code sent
is still good), and says how long to wait."""

import re

from django.test import Client

from warmstation.outreach.models import OutboxMessage


def test_a_resend_within_a_minute_keeps_the_code_step(tree):
    from tests.factories import make_worker

    make_worker([tree["ylj"]], mobile="13912349901")
    c = Client()
    first = c.post("/login/", {"mobile": "13912349901", "action": "send"})
    assert 'name="code"' in first.content.decode()
    again = c.post("/login/", {"mobile": "13912349901", "action": "send", "from": "code"})
    html = again.content.decode()
    assert again.status_code == 429
    assert 'name="code"' in html and "秒后再试" in html
    code = re.search(r"\d{6}", OutboxMessage.objects.filter(recipient="13912349901")
                     .latest("created_at").body).group(0)
    done = c.post("/login/", {"mobile": "13912349901", "code": code, "action": "verify"})
    assert done.status_code == 302
