"""Ledger entries partitioned by month of `created_at` on PostgreSQL (core.partitioning,
ADR 0015). SQLite is unchanged.

Kept as they were: the append-only trigger (0002, 0003; its message still names
`points_entry`, not the partition), the CHECK that no entry is zero, the foreign keys, the hash
chain (it lives in the transactions and the head row, which are not partitioned).

One guarantee changes form: UNIQUE (transaction, account) — one entry per account in a
transaction — cannot be a unique index on a partitioned table without `created_at`, and an
entry's `created_at` is not its transaction's (each entry takes its own timestamp). It becomes
a BEFORE INSERT trigger over an index on (transaction_id, account_id), raising unique_violation
(an IntegrityError, as before). That is race-free here because entries are written only by
`_post`, in the transaction that creates their LedgerTransaction and under the ledger head's
row lock (ADR 0007): no other transaction can add entries to it concurrently.
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION points_ledger_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = regexp_replace(TG_TABLE_NAME, '_(p[0-9]{6}|default)$', '')
    || ' is append-only: post a reversal instead', ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE INDEX points_entry_tx_account ON points_entry (transaction_id, account_id);

CREATE OR REPLACE FUNCTION points_entry_one_per_account() RETURNS trigger AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM points_entry
              WHERE transaction_id = NEW.transaction_id AND account_id = NEW.account_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'unique_violation',
      MESSAGE = 'duplicate key value violates unique constraint "points_entry_one_per_account"';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER points_entry_one_per_account BEFORE INSERT ON points_entry
  FOR EACH ROW EXECUTE FUNCTION points_entry_one_per_account();
"""


def forwards(apps, schema_editor):
    from warmstation.core.partitioning import partition_by_month

    if schema_editor.connection.vendor != "postgresql":
        return
    partition_by_month(schema_editor, "points_entry", "created_at",
                       drop_unique=("points_entry_one_per_account",))
    schema_editor.execute(PG_UP)


class Migration(migrations.Migration):
    dependencies = [("points", "0003_ledger_chain")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
