"""The hash chain over the ledger, its head, signed checkpoints, and the database refusing any
rewrite of the ledger on both databases.

- LedgerTransaction gets `seq`, `prev_hash`, `hash` (points.chain); existing rows are chained
  here in id order.
- Entries and transactions: UPDATE and DELETE raise, on PostgreSQL and (new) on SQLite. The
  only ways left to empty them are the owner's TRUNCATE on PostgreSQL and, on SQLite, dropping
  the triggers (tests do so around Django's flush: conftest.py); either shows as a broken chain
  or a head that names a missing transaction.
- Stored balances are guarded: a balance may only move to its account's newest entry's
  `balance_after`, by that entry's amount (so "delete a transaction, patch the balances" is
  refused, and shows in ledger_verify if done with the triggers dropped).
- The head may only move forward one step, and only to a transaction that exists.
"""

from django.db import migrations, models

from warmstation.points.chain import GENESIS, tx_hash

TABLES = ["points_entry", "points_ledgertransaction"]

PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION points_ledger_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: post a reversal instead',
    ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION points_account_balance_guard() RETURNS trigger AS $$
BEGIN
  IF NEW.balance IS DISTINCT FROM OLD.balance AND NOT EXISTS (
      SELECT 1 FROM points_entry e
      WHERE e.account_id = NEW.id AND e.balance_after = NEW.balance
        AND e.amount = NEW.balance - OLD.balance
        AND e.id = (SELECT max(m.id) FROM points_entry m WHERE m.account_id = NEW.id)) THEN
    RAISE EXCEPTION USING MESSAGE = 'points_pointsaccount.balance moves only by its newest entry',
      ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION points_ledgerhead_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' OR NOT (
      (NEW.seq = OLD.seq + 1 AND NEW.hash = OLD.hash)
      OR (NEW.seq = OLD.seq AND EXISTS (SELECT 1 FROM points_ledgertransaction t
                                        WHERE t.seq = NEW.seq AND t.hash = NEW.hash))) THEN
    RAISE EXCEPTION USING MESSAGE = 'points_ledgerhead moves forward only, to a transaction',
      ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
PG_TRIGGERS = """
CREATE TRIGGER points_entry_append_only BEFORE UPDATE OR DELETE ON points_entry
  FOR EACH ROW EXECUTE FUNCTION points_ledger_append_only();
CREATE TRIGGER points_ledgertransaction_append_only BEFORE UPDATE OR DELETE
  ON points_ledgertransaction FOR EACH ROW EXECUTE FUNCTION points_ledger_append_only();
CREATE TRIGGER points_account_balance_guard BEFORE UPDATE OF balance ON points_pointsaccount
  FOR EACH ROW EXECUTE FUNCTION points_account_balance_guard();
CREATE TRIGGER points_ledgerhead_guard BEFORE UPDATE OR DELETE ON points_ledgerhead
  FOR EACH ROW EXECUTE FUNCTION points_ledgerhead_guard();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS points_account_balance_guard ON points_pointsaccount;
DROP TRIGGER IF EXISTS points_ledgerhead_guard ON points_ledgerhead;
DROP FUNCTION IF EXISTS points_account_balance_guard();
DROP FUNCTION IF EXISTS points_ledgerhead_guard();
"""

SQLITE_TRIGGERS = [
    *(f"""CREATE TRIGGER {t}_append_only BEFORE UPDATE ON {t}
BEGIN SELECT RAISE(ABORT, '{t} is append-only: post a reversal instead'); END;""" for t in TABLES),
    *(f"""CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t}
BEGIN SELECT RAISE(ABORT, '{t} is append-only: post a reversal instead'); END;""" for t in TABLES),
    """CREATE TRIGGER points_account_balance_guard BEFORE UPDATE OF balance ON points_pointsaccount
WHEN NEW.balance <> OLD.balance AND NOT EXISTS (
  SELECT 1 FROM points_entry e
  WHERE e.account_id = NEW.id AND e.balance_after = NEW.balance
    AND e.amount = NEW.balance - OLD.balance
    AND e.id = (SELECT max(m.id) FROM points_entry m WHERE m.account_id = NEW.id))
BEGIN SELECT RAISE(ABORT, 'points_pointsaccount.balance moves only by its newest entry'); END;""",
    """CREATE TRIGGER points_ledgerhead_guard BEFORE UPDATE ON points_ledgerhead
WHEN NOT ((NEW.seq = OLD.seq + 1 AND NEW.hash = OLD.hash)
  OR (NEW.seq = OLD.seq AND EXISTS (SELECT 1 FROM points_ledgertransaction t
                                    WHERE t.seq = NEW.seq AND t.hash = NEW.hash)))
BEGIN SELECT RAISE(ABORT, 'points_ledgerhead moves forward only, to a transaction'); END;""",
    """CREATE TRIGGER points_ledgerhead_no_delete BEFORE DELETE ON points_ledgerhead
BEGIN SELECT RAISE(ABORT, 'points_ledgerhead moves forward only, to a transaction'); END;""",
]
SQLITE_NAMES = [*(f"{t}_append_only" for t in TABLES), *(f"{t}_no_delete" for t in TABLES),
                "points_account_balance_guard", "points_ledgerhead_guard",
                "points_ledgerhead_no_delete"]


def _drop_old(schema_editor):
    vendor = schema_editor.connection.vendor
    for t in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_append_only;")


def chain_existing(apps, schema_editor):
    """Chain the transactions written before the chain existed, in id order."""
    _drop_old(schema_editor)
    Tx = apps.get_model("points", "LedgerTransaction")
    Entry = apps.get_model("points", "Entry")
    Head = apps.get_model("points", "LedgerHead")
    prev, seq = GENESIS, 0
    for tx in Tx.objects.order_by("id").iterator():
        seq += 1
        entries = Entry.objects.filter(transaction_id=tx.pk).values_list(
            "account_id", "amount", "balance_after")
        digest = tx_hash(prev_hash=prev, seq=seq, kind=tx.kind, points=tx.points,
                         user_id=tx.user_id, action=tx.action, source_ref=tx.source_ref,
                         reverses_id=tx.reverses_id, actor_id=tx.actor_id, memo=tx.memo,
                         entries=list(entries))
        Tx.objects.filter(pk=tx.pk).update(seq=seq, prev_hash=prev, hash=digest)
        prev = digest
    Head.objects.create(id=1, seq=seq, hash=prev)


def guards_up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTIONS)
        schema_editor.execute(PG_TRIGGERS)
    elif vendor == "sqlite":
        for sql in SQLITE_TRIGGERS:
            schema_editor.execute(sql)


def guards_down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
        for t in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};")
    elif vendor == "sqlite":
        for name in SQLITE_NAMES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};")


def restore_0002(apps, schema_editor):
    from importlib import import_module

    import_module("warmstation.points.migrations.0002_ledger_append_only").forwards(
        apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("points", "0002_ledger_append_only")]

    operations = [
        migrations.CreateModel(
            name="LedgerHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("seq", models.BigIntegerField(default=0)),
                ("hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="LedgerCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("seq", models.BigIntegerField()),
                ("hash", models.CharField(max_length=64)),
                ("entry_id", models.BigIntegerField()),
                ("full", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField()),
                ("signature", models.CharField(max_length=64)),
            ],
            options={"ordering": ["-id"]},
        ),
        migrations.AddField(model_name="ledgertransaction", name="seq",
                            field=models.BigIntegerField(null=True)),
        migrations.AddField(model_name="ledgertransaction", name="prev_hash",
                            field=models.CharField(default="", max_length=64),
                            preserve_default=False),
        migrations.AddField(model_name="ledgertransaction", name="hash",
                            field=models.CharField(default="", max_length=64),
                            preserve_default=False),
        migrations.RunPython(chain_existing, restore_0002),
        migrations.AlterField(model_name="ledgertransaction", name="seq",
                              field=models.BigIntegerField(unique=True)),
        migrations.RunPython(guards_up, guards_down),
    ]
