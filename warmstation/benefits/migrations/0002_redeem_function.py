"""The counter's redemption as one PostgreSQL function, `benefits_redeem(...)`: one round trip
instead of nineteen statements, with the same statements, locks and guarantees as the Python
path it replaces on PostgreSQL (benefits.services.redemption_redeem; SQLite keeps that path).

In one database transaction (the caller's): claim the idempotency key (ON CONFLICT DO NOTHING
waits for a concurrent first holder, then reports a replay); redeem the code by one conditional
UPDATE (issued, not expired, this merchant); for a points offer post its hold exactly as
points.services._post does — the worker's account row locked first, the hold re-checked under
that lock, the chain head locked, one balanced transaction chained by its hash (points.chain:
the text hashed here must stay identical to chain.tx_text), its two entries, the balances moved
to the entries' balance_after, the hold marked posted, the head moved; the audit line; the
response stored under the key. A refusal the caller can know of (code_invalid, code_expired)
writes nothing but the key with the refusal, so a retry replays it. Anything else unexpected
(a hold no longer active, not enough points, no chain head yet) raises SQLSTATE WS001 before
the transaction can commit: nothing is written, and the caller runs the Python path, which
refuses (and remembers the refusal) as it always did.
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION benefits_redeem(
  p_scope text, p_owner bigint, p_key text, p_digest text, p_merchant bigint,
  p_by_token boolean, p_code_hash text, p_actor bigint, p_now timestamptz, p_now_iso text,
  p_ip inet, p_invalid jsonb, p_expired jsonb,
  OUT outcome text, OUT status_code integer, OUT response jsonb, OUT request_hash text)
LANGUAGE plpgsql AS $$
DECLARE
  v_key bigint;
  r record;
  v_status text;
  h record;
  w record;
  v_payee bigint;
  v_payee_balance bigint;
  v_seq bigint;
  v_prev text;
  v_hash text;
  v_tx bigint;
  v_worker_after bigint;
  v_payee_after bigint;
  v_source text;
  v_entries text;
BEGIN
  INSERT INTO points_idempotencykey (scope, owner_id, key, request_hash, status_code, response,
                                     created_at)
  VALUES (p_scope, p_owner, p_key, p_digest, 0, '{}', p_now)
  ON CONFLICT (scope, owner_id, key) DO NOTHING RETURNING id INTO v_key;
  IF v_key IS NULL THEN
    SELECT 'replay', k.status_code, k.response, k.request_hash INTO outcome, status_code,
           response, request_hash
      FROM points_idempotencykey k
     WHERE k.scope = p_scope AND k.owner_id = p_owner AND k.key = p_key;
    RETURN;
  END IF;
  request_hash := p_digest;

  UPDATE benefits_redemption d
     SET status = 'redeemed', redeemed_at = p_now, redeemed_by_id = p_actor
   WHERE d.merchant_id = p_merchant AND d.status = 'issued' AND d.expires_at > p_now
     AND (CASE WHEN p_by_token THEN d.token_hash = p_code_hash
               ELSE d.digits_hash = p_code_hash END)
  RETURNING d.id, d.hold_id, d.title, d.price, d.normal_price, d.points INTO r;
  IF r.id IS NULL THEN
    -- Why not: unknown, used (or being used), or expired while still issued.
    SELECT d.status INTO v_status FROM benefits_redemption d
     WHERE d.merchant_id = p_merchant
       AND (CASE WHEN p_by_token THEN d.token_hash = p_code_hash
                 ELSE d.digits_hash = p_code_hash AND d.status = 'issued' END);
    outcome := 'refused';
    status_code := 409;
    response := CASE WHEN v_status = 'issued' THEN p_expired ELSE p_invalid END;
    UPDATE points_idempotencykey SET status_code = 409, response = benefits_redeem.response
     WHERE id = v_key;
    RETURN;
  END IF;

  IF r.hold_id IS NOT NULL THEN
    SELECT x.account_id, x.amount, x.payee_code, x.memo INTO h
      FROM points_hold x WHERE x.id = r.hold_id;
    SELECT a.id, a.balance, a.held, a.user_id INTO w
      FROM points_pointsaccount a WHERE a.id = h.account_id FOR UPDATE;
    -- Under the worker's lock the hold's status cannot change (every change takes it first).
    PERFORM 1 FROM points_hold x WHERE x.id = r.hold_id AND x.status = 'active';
    IF NOT FOUND OR w.held < h.amount OR w.balance - h.amount < w.held - h.amount THEN
      RAISE EXCEPTION USING ERRCODE = 'WS001', MESSAGE = 'redeem: take the Python path';
    END IF;
    SELECT a.id INTO v_payee FROM points_pointsaccount a WHERE a.code = h.payee_code;
    UPDATE points_ledgerhead SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash
      INTO v_seq, v_prev;
    IF v_seq IS NULL OR v_payee IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'WS001', MESSAGE = 'redeem: take the Python path';
    END IF;
    -- Under the head's lock no other posting moves a system balance.
    SELECT a.balance INTO v_payee_balance FROM points_pointsaccount a WHERE a.id = v_payee;
    v_worker_after := w.balance - h.amount;
    v_payee_after := v_payee_balance + h.amount;
    v_source := left('benefits.redemption:' || r.id, 96);
    v_entries := CASE WHEN w.id < v_payee
      THEN w.id || ':' || (-h.amount) || ':' || v_worker_after || ';'
           || v_payee || ':' || h.amount || ':' || v_payee_after
      ELSE v_payee || ':' || h.amount || ':' || v_payee_after || ';'
           || w.id || ':' || (-h.amount) || ':' || v_worker_after END;
    -- points.chain.tx_text: prev|seq|kind|points|user|action|source_ref|reverses|actor|memo|entries
    v_hash := encode(sha256(convert_to(
      v_prev || '|' || v_seq || '|spend|' || (-h.amount) || '|' || coalesce(w.user_id::text, '')
      || '||' || v_source || '||' || coalesce(p_actor::text, '') || '|' || left(h.memo, 128)
      || '|' || v_entries, 'UTF8')), 'hex');
    INSERT INTO points_ledgertransaction (kind, memo, user_id, action, points, source_ref,
                                          reverses_id, actor_id, created_at, seq, prev_hash, hash)
    VALUES ('spend', left(h.memo, 128), w.user_id, '', -h.amount, v_source, NULL, p_actor,
            p_now, v_seq, v_prev, v_hash)
    RETURNING id INTO v_tx;
    INSERT INTO points_entry (transaction_id, account_id, amount, balance_after, created_at)
    VALUES (v_tx, w.id, -h.amount, v_worker_after, p_now),
           (v_tx, v_payee, h.amount, v_payee_after, p_now);
    UPDATE points_pointsaccount SET balance = v_worker_after, held = w.held - h.amount
     WHERE id = w.id;
    UPDATE points_pointsaccount SET balance = v_payee_after WHERE id = v_payee;
    UPDATE points_hold SET status = 'posted', settled_at = p_now, transaction_id = v_tx
     WHERE id = r.hold_id AND status = 'active';
    UPDATE points_ledgerhead SET hash = v_hash WHERE id = 1;
  END IF;

  INSERT INTO core_auditevent (at, actor_id, actor_label, subject_id, action, object_type,
                               object_id, result, ip, detail)
  VALUES (p_now, p_actor, '', NULL, 'redemption.redeem', 'benefits.redemption', r.id::text,
          'ok', p_ip, jsonb_build_object('merchant', p_merchant, 'points', r.points,
                                         'transaction', v_tx));
  outcome := 'done';
  status_code := 200;
  response := jsonb_build_object(
    'redemption_id', r.id, 'status', 'redeemed', 'title', r.title, 'merchant_id', p_merchant,
    'price', r.price::text, 'normal_price', r.normal_price::text, 'points', r.points,
    'transaction_id', v_tx, 'redeemed_at', p_now_iso);
  UPDATE points_idempotencykey SET status_code = 200, response = benefits_redeem.response
   WHERE id = v_key;
END;
$$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS benefits_redeem(text, bigint, text, text, "
                              "bigint, boolean, text, bigint, timestamptz, text, inet, jsonb, "
                              "jsonb);")


class Migration(migrations.Migration):
    dependencies = [("benefits", "0001_initial"), ("points", "0003_ledger_chain"),
                    ("core", "0005_audit_retention")]
    operations = [migrations.RunPython(forwards, backwards)]
