from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from warmstation.core.inputs import PhoneField
from warmstation.core.models import TimeStampedModel


class Department(TimeStampedModel):
    """A government department or body that receives and handles workers' needs (职能部门):
    区住建委, 区人力社保局, 区总工会, the city-management command centre, a police station…
    `area` is where it has authority (the district for 区 bodies, a street for its office)."""

    class Kind(models.TextChoices):
        DISTRICT_BODY = "district_body", _("区直部门")
        MASS_ORG = "mass_org", _("群团组织")
        COMMAND_CENTRE = "command_centre", _("指挥中心")
        POLICE = "police", _("公安")
        STREET_OFFICE = "street_office", _("街乡办事处")
        REGULATOR = "regulator", _("行业监管")

    code = models.SlugField(max_length=48, unique=True)
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128, blank=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="departments")
    phone = PhoneField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh


class Category(models.Model):
    """A kind of need (诉求类别): freight-vehicle access, last-mile site, meals, housing … with
    the limits the district set for it. `answer_hours` counts office hours after dispatch,
    `resolve_days` working days after receipt (see deadlines.py)."""

    code = models.SlugField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=32)
    name_en = models.CharField(max_length=64, blank=True)
    answer_hours = models.PositiveSmallIntegerField(default=16)
    resolve_days = models.PositiveSmallIntegerField(default=7)
    # Employment, legal and social-insurance questions are answered from the policy Q&A.
    is_policy = models.BooleanField(default=False)
    sort = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")

    def __str__(self) -> str:
        return self.name_zh

    @property
    def label(self) -> str:
        """The name in the active language (English when there is one), for pages."""
        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name_zh


class RoutingRule(models.Model):
    """Category × area → the department that handles it (派单规则). A rule on an area covers the
    areas below it; the deepest matching rule wins, a rule without area is the district default."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="rules")
    area = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="rules")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["category", "area"], name="routing_unique_area"),
            models.UniqueConstraint(fields=["category"], condition=Q(area=None),
                                    name="routing_unique_default"),
        ]

    def __str__(self) -> str:
        return f"{self.category} @ {self.area or '*'} → {self.department}"


class AppealSettings(models.Model):
    """The district's time limits and rules for needs (one row, pk=1)."""

    dispatch_urgent_minutes = models.PositiveIntegerField(default=60)
    dispatch_general_hours = models.PositiveIntegerField(default=24)
    respond_hours = models.PositiveIntegerField(default=4)       # office hours after dispatch
    complex_resolve_days = models.PositiveIntegerField(default=15)
    reopen_days = models.PositiveIntegerField(default=7)
    followup_days = models.PositiveIntegerField(default=7)       # consultations' follow-up
    remind_before_hours = models.PositiveIntegerField(default=2)
    # Weight of 基本满意 in the satisfaction rate (1.0 = counts as satisfied); see
    # docs/appeals-rates.md.
    fairly_satisfied_weight = models.DecimalField(max_digits=3, decimal_places=2, default=1)

    class Meta:
        verbose_name = _("诉求办理设置")
        verbose_name_plural = _("诉求办理设置")

    def __str__(self) -> str:
        return "appeal settings"


class WorkCalendarDay(models.Model):
    """An exception to Monday–Friday working days: a public holiday (working=False) or a
    weekend working day of the official 调休 (working=True)."""

    date = models.DateField(unique=True)
    working = models.BooleanField()
    name = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.working else '休'}"


class Meeting(TimeStampedModel):
    """A meeting with companies (座谈会) where several needs were raised at once."""

    title = models.CharField(max_length=128)
    held_on = models.DateField()
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.title


class PolicyAnswer(TimeStampedModel):
    """An answer in the policy Q&A (政策问答): employment, legal and social-insurance questions
    that departments keep up to date. `search_text` is the question, keywords and answer in one
    column, for bigram search (Chinese has no spaces to split words on)."""

    class Topic(models.TextChoices):
        EMPLOYMENT = "employment", _("就业服务")
        LEGAL = "legal", _("法律法规")
        SOCIAL_INSURANCE = "social_insurance", _("社会保险")

    topic = models.CharField(max_length=24, choices=Topic.choices)
    question = models.CharField(max_length=200)
    answer = models.TextField(max_length=8000)
    keywords = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=200, blank=True)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    search_text = models.TextField(editable=False, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["topic", "id"]

    def __str__(self) -> str:
        return self.question


class Appeal(TimeStampedModel):
    """A need or complaint (诉求, 急难愁盼) raised by a worker, for a worker, or at a meeting, and
    handled by a department (接诉即办). Deadlines are stored when a step starts, so lists can sort
    and filter by them in the database."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("已受理")
        RETURNED = "returned", _("已退回待重派")
        DISPATCHED = "dispatched", _("已派单")
        ACCEPTED = "accepted", _("已签收")
        IN_PROGRESS = "in_progress", _("办理中")
        ANSWERED = "answered", _("已答复")
        RESOLVED = "resolved", _("已解决")
        UNRESOLVED = "unresolved", _("未解决")
        FOLLOWED_UP = "followed_up", _("已回访")
        CLOSED = "closed", _("已办结")
        MERGED = "merged", _("已合并")

    class Channel(models.TextChoices):
        WORKER = "worker", _("小哥提交")
        ON_BEHALF = "on_behalf", _("代为提交")
        MEETING = "meeting", _("座谈会")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        FAIRLY = "fairly", _("基本满意")
        DISSATISFIED = "dissatisfied", _("不满意")

    submitter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="appeals")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    company = models.ForeignKey("accounts.Brand", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="appeals")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    # The street/town above `area` (or the area itself): the unit of the board's ranking.
    street = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=100)
    body = models.TextField(max_length=4000)
    anonymous_public = models.BooleanField(default=False)
    hide_from_department = models.BooleanField(default=False)
    urgent = models.BooleanField(default=False)
    complex = models.BooleanField(default=False)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="appeals")
    # First of the month received (Asia/Shanghai): the board's period.
    month = models.DateField()
    dispatch_due = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)
    respond_due = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    answer_due = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    resolve_due = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # The deadline of the step the case is waiting for (null when nothing is due): one indexed
    # column for "overdue first" and for the reminder sweep.
    current_due = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(max_length=4000, blank=True)
    policy_answer = models.ForeignKey(PolicyAnswer, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    followup_due = models.DateField(null=True, blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    resolved = models.BooleanField(null=True, blank=True)
    satisfaction = models.CharField(max_length=16, choices=Satisfaction.choices, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="duplicates")
    reopen_count = models.PositiveSmallIntegerField(default=0)
    # The form's (or the API's Idempotency-Key) one-time key: a double tap or a retried request
    # from the same person is the same need, not a second one.
    client_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["department", "status"]),
            models.Index(fields=["status", "current_due"]),
            models.Index(fields=["month", "department", "street"]),
            models.Index(fields=["submitter", "-created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recorded_by", "client_key"],
                                    condition=~Q(client_key=""), name="appeal_unique_client_key"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def number(self) -> str:
        return f"SQ{self.created_at:%Y%m%d}{self.pk:06d}" if self.pk and self.created_at else ""


def attachment_path(instance, filename: str) -> str:
    return f"appeals/{instance.event.appeal_id}/{instance.event_id}-{filename[-40:]}"


class AppealEvent(models.Model):
    """One line of a case's timeline: a transition (or a note, a reminder) with who, when, the
    department concerned and the note. Append-only."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=24)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    note = models.TextField(max_length=4000, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.action}"


class AppealAttachment(models.Model):
    """A picture attached to a timeline step, re-encoded and stripped of metadata."""

    event = models.ForeignKey(AppealEvent, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return self.name


class MonthlyStat(models.Model):
    """Roll-up of cases by month received × department × street, kept current by a task after
    every change (services.rollup_refresh) so the district board reads a few hundred rows
    instead of every case. Rebuildable at any time from the cases."""

    month = models.DateField()
    department = models.ForeignKey(Department, null=True, on_delete=models.CASCADE,
                                   related_name="+")
    street = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+")
    cases = models.PositiveIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    responded_on_time = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    answered_on_time = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    fairly = models.PositiveIntegerField(default=0)
    dissatisfied = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "department", "street"],
                                    name="monthlystat_unique"),
            models.UniqueConstraint(fields=["month", "street"], condition=Q(department=None),
                                    name="monthlystat_unique_undispatched"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.department_id} {self.street_id}"
