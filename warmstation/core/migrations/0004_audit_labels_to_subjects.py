"""Rows written before 0003 kept the actor's masked mobile in actor_label, in an append-only
table: a closed account could never be erased from them. This moves every such label out, once,
with the append-only trigger lifted for the length of this migration only:

- a row with an actor: the label is dropped (the audit page renders the mask from the user,
  whose row is anonymised when the account closes);
- a row without one: the label moves to an AuditSubject, keyed by the full number when the row
  names the sign-in code or account it was about (so closing that account blanks it); a label
  whose number cannot be known any more stays in its own unkeyed subject, still erasable by
  hand (AuditSubject is an ordinary table).
"""

import re

from django.db import migrations

MASKED = re.compile(r"^\d{3}\*{4}\d{4}$")
SQLITE_TRIGGER = """
CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent
BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only'); END;
"""


def _lift(schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_update")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_update")


def _restore(schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_no_update")
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


def forwards(apps, schema_editor):
    from warmstation.core.crypto import keyed_hash

    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditSubject = apps.get_model("core", "AuditSubject")
    SmsCode = apps.get_model("accounts", "SmsCode")
    User = apps.get_model("accounts", "User")
    legacy = AuditEvent.objects.exclude(actor_label="")
    if not legacy.exists():
        return
    _lift(schema_editor)
    legacy.exclude(actor=None).update(actor_label="")
    for event in legacy.filter(actor=None).iterator():
        if not MASKED.match(event.actor_label):
            continue  # not a person's number ("system", a test label)
        mobile = None
        if event.object_type == "accounts.smscode":
            mobile = SmsCode.objects.filter(pk=event.object_id).values_list("mobile", flat=True).first()
        elif event.object_type == "accounts.user":
            mobile = User.objects.filter(pk=event.object_id).values_list("mobile", flat=True).first()
        if mobile and not mobile.startswith("closed-"):
            subject, _ = AuditSubject.objects.get_or_create(
                key=keyed_hash("audit-subject", mobile), defaults={"label": event.actor_label})
        else:
            subject = AuditSubject.objects.create(key=None, label=event.actor_label)
        AuditEvent.objects.filter(pk=event.pk).update(subject=subject, actor_label="")
    _restore(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_subjects"), ("accounts", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
