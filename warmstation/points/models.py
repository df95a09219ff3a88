"""The points ledger (积分账本): append-only double entry.

Every movement of points is one LedgerTransaction whose Entries sum to zero. Entries are never
changed (the database refuses an UPDATE or a DELETE of an entry or a transaction, on PostgreSQL
and SQLite: migrations 0002 and 0003); a mistake is corrected by a reversal. Each account keeps
its balance on its own row, updated in the same database transaction as its entries, so
"balance = sum of entries" can be proved at any time (`manage.py ledger_verify`).

The transactions form a hash chain (`points.chain`): each keeps `seq` (its gapless position),
`prev_hash` and `hash` = SHA-256 over the previous hash, its own fields and its entries. The
chain's head lives in LedgerHead; a signed LedgerCheckpoint lets `ledger_verify` start from
where it last proved the ledger, so a nightly run costs what the day added.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class PointsAccount(models.Model):
    """An account of points. A worker (小哥) has one; the system has one issuance account per
    earning source (points come into being there, so its balance is negative: minus everything
    ever issued) and one settlement account per partner merchant (what workers spent there).

    `held` is the part of a worker's balance reserved by pending holds (a redemption code shown
    at a counter but not yet scanned); available = balance - held. The database itself refuses
    a worker balance below what is held, and a negative hold."""

    class Kind(models.TextChoices):
        WORKER = "worker", _("小哥积分账户")
        ISSUANCE = "issuance", _("积分发放账户")
        SETTLEMENT = "settlement", _("商户结算账户")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Stable name of a system account ("issuance:volunteering", "merchant:12"); for a worker's
    # account "worker:<user id>". Unique: two requests creating the same account meet here.
    code = models.CharField(max_length=64, unique=True)
    # The worker. Closing an account anonymises the user row but keeps it, so the ledger stays
    # whole and unlinked from the person (PROTECT: a user row with points is never deleted).
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="points_account")
    name = models.CharField(max_length=128, blank=True)
    balance = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(held__gte=0), name="points_account_held_nonneg"),
            # A worker can never owe points, nor hold more than they have. System accounts may
            # go negative: issuance accounts are negative by design.
            models.CheckConstraint(
                condition=~Q(kind="worker") | Q(balance__gte=F("held")),
                name="points_account_worker_balance_covers_held",
            ),
            models.CheckConstraint(condition=~Q(kind="worker") | Q(balance__gte=0),
                                   name="points_account_worker_nonneg"),
        ]

    def __str__(self) -> str:
        return self.name or self.code

    @property
    def available(self) -> int:
        return self.balance - self.held


class EarningRule(models.Model):
    """A published earning rule (积分规则): doing `action` earns `points`, at most `daily_cap`
    points a (Shanghai) day and `monthly_cap` a month per worker. Rules are data: the district
    publishes and changes them without a release. `source` names the issuance account the
    points come from (volunteering, errands, street reports …)."""

    class Source(models.TextChoices):
        VOLUNTEERING = "volunteering", _("志愿服务")
        ERRAND = "errand", _("跑腿服务")
        STREET_REPORT = "street_report", _("随手拍")
        CIVIC = "civic", _("文明行为")
        OTHER = "other", _("其他")

    action = models.SlugField(max_length=48, unique=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128, blank=True)
    points = models.PositiveIntegerField()
    daily_cap = models.PositiveIntegerField(null=True, blank=True)
    monthly_cap = models.PositiveIntegerField(null=True, blank=True)
    # The area that published the rule (None: district-wide). Area admins see their own.
    area = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="earning_rules")
    is_active = models.BooleanField(default=True)
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "action"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="earning_rule_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} +{self.points}"


class LedgerTransaction(models.Model):
    """One movement of points (积分流水): an award, a spend at a merchant, or the reversal of an
    earlier transaction. Its entries sum to zero. Immutable once written."""

    class Kind(models.TextChoices):
        EARN = "earn", _("获得积分")
        SPEND = "spend", _("兑换消费")
        REVERSAL = "reversal", _("冲正")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    memo = models.CharField(max_length=128, blank=True)
    # The worker it concerns, and for an award the rule's action: caps are counted from these.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=48, blank=True)
    points = models.BigIntegerField(default=0)  # the worker's side, signed (+ earn, - spend)
    source_ref = models.CharField(max_length=96, blank=True)  # "volunteering.shift:12"
    # A transaction is reversed at most once: the unique one-to-one says so in the database.
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The hash chain (points.chain): position, the previous transaction's hash, this one's.
    seq = models.BigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "action", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.points:+d}"


class Entry(models.Model):
    """One line of a transaction on one account (分录). `balance_after` is the account's balance
    right after it, so a statement explains a balance line by line. Append-only."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT,
                                    related_name="entries")
    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["account", "-id"])]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="points_entry_nonzero"),
            models.UniqueConstraint(fields=["transaction", "account"],
                                    name="points_entry_one_per_account"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+d} → {self.balance_after}"


class Hold(models.Model):
    """Points reserved for a pending redemption (冻结): placed when a worker's code is shown,
    then posted (the points move) when the merchant redeems it, or released when it is
    cancelled or expires. Each of those happens exactly once: a conditional UPDATE on
    `status='active'` decides which one wins."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("冻结中")
        POSTED = "posted", _("已扣减")
        RELEASED = "released", _("已解冻")
        EXPIRED = "expired", _("已过期")

    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="holds")
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    memo = models.CharField(max_length=128, blank=True)
    # Where posted points go ("merchant:12").
    payee_code = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    transaction = models.OneToOneField(LedgerTransaction, null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="hold")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="points_hold_positive"),
            models.CheckConstraint(condition=~Q(status="posted") | Q(transaction__isnull=False),
                                   name="points_hold_posted_has_transaction"),
        ]

    def __str__(self) -> str:
        return f"hold #{self.pk} {self.amount} [{self.status}]"


class IdempotencyKey(models.Model):
    """A request that moved (or tried to move) points, remembered by the key its client sent
    (`Idempotency-Key`): the same key again replays the stored response; the same key with a
    different body is refused (422). The unique constraint makes concurrent duplicates wait for
    the first and then replay it."""

    scope = models.CharField(max_length=48)  # the operation, e.g. "points.award"
    owner_id = models.BigIntegerField()  # the caller (user id; 0 for the system)
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=200)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "owner_id", "key"],
                                    name="points_idempotency_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.owner_id}:{self.key}"


class LedgerHead(models.Model):
    """The head of the transactions' hash chain: one row (id 1), the last `seq` and its hash.
    Every posting takes its row lock (after the worker's account, before any system account),
    so the chain is one line; a trigger lets it only move forward, one step at a time, to a
    transaction that exists."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head {self.seq} {self.hash[:12]}"


class LedgerCheckpoint(models.Model):
    """A point up to which `ledger_verify` proved every invariant, signed (HMAC-SHA256 under
    settings.LEDGER_CHECKPOINT_KEY) so that whoever can write to the database but does not hold
    the key cannot move it. The next run verifies only what came after it."""

    seq = models.BigIntegerField()  # the chain position proved up to
    hash = models.CharField(max_length=64)  # that transaction's hash
    entry_id = models.BigIntegerField()  # the last entry then
    full = models.BooleanField(default=False)  # written by a full run
    created_at = models.DateTimeField()
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"checkpoint {self.seq} @ {self.created_at:%Y-%m-%d %H:%M}"
