"""Snap-and-report (随手拍): street problems photographed by workers (and filed by other
civic-reporting clients through Open311), triaged by the city-management command centre."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from warmstation.core.models import TimeStampedModel


class ReportCategory(models.Model):
    """A class of urban-management event (城市管理事件), after GB/T 30428.2 部件和事件: 市容环境 ·
    暴露垃圾, 积存渣土, 堆物堆料 …; also the Open311 `service` of the same code. `resolve_days`
    is the working-day limit from acceptance (立案) to resolution."""

    code = models.SlugField(max_length=32, unique=True)
    group_zh = models.CharField(max_length=16)
    group_en = models.CharField(max_length=48, blank=True)
    name_zh = models.CharField(max_length=32)
    name_en = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=200, blank=True)
    keywords = models.CharField(max_length=100, blank=True)
    resolve_days = models.PositiveSmallIntegerField(default=3)
    department = models.ForeignKey("appeals.Department", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    sort = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return f"{self.group_zh}·{self.name_zh}"

    @property
    def label(self) -> str:
        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name_zh

    @property
    def group_label(self) -> str:
        english = (get_language() or "").startswith("en")
        return self.group_en if english and self.group_en else self.group_zh


class ReportSettings(models.Model):
    """The district's rules for reports (one row, pk=1). Points come from the ledger's earning
    rules named here (their amounts and monthly caps are set there)."""

    same_radius_m = models.PositiveIntegerField(default=100)
    same_max = models.PositiveSmallIntegerField(default=5)
    reopen_days = models.PositiveSmallIntegerField(default=7)
    first_action = models.SlugField(max_length=48, default="street_report_valid")
    confirm_action = models.SlugField(max_length=48, default="street_report_confirm")

    def __str__(self) -> str:
        return "report settings"


class Problem(TimeStampedModel):
    """One street problem (城市管理问题 / 案件): the first report of it and everyone who said
    "我也遇到" since. Its place is the problem's own (stored WGS-84), never a reporter's device
    position beyond it. Deadlines are stored when a step starts, as for needs."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待受理")
        ACCEPTED = "accepted", _("已立案")
        DISPATCHED = "dispatched", _("已派遣")
        RESOLVED = "resolved", _("已处置")
        CLOSED = "closed", _("已结案")
        REJECTED = "rejected", _("不予立案")
        MERGED = "merged", _("已合并")

    class RejectReason(models.TextChoices):
        UNCLEAR = "unclear", _("不清楚")
        DUPLICATE = "duplicate", _("已立案")
        UNTRUE = "untrue", _("不属实")
        SPLIT = "split", _("拆分上报")
        NOT_OURS = "not_ours", _("非本部门")

    class Source(models.TextChoices):
        WORKER = "worker", _("小哥随手拍")
        OPEN311 = "open311", _("Open311 接口")

    category = models.ForeignKey(ReportCategory, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    lat = models.FloatField()
    lng = models.FloatField()
    cell_s = models.IntegerField(db_index=True)
    cell_l = models.IntegerField(db_index=True)
    address = models.CharField(max_length=200, blank=True)
    description = models.TextField(max_length=1000, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WORKER)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    client = models.ForeignKey("reports.Open311Client", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    # The reporter's own key for this report (the phone's offline queue): the same key twice
    # is the same report, never a second one.
    client_key = models.CharField(max_length=64, blank=True)
    # Open311: the token answered when a request is filed, and its attribute[...] values.
    token = models.CharField(max_length=32, blank=True, db_index=True)
    attributes = models.JSONField(default=dict, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    reject_reason = models.CharField(max_length=16, choices=RejectReason.choices, blank=True)
    department = models.ForeignKey("appeals.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    resolve_due = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="duplicates")
    reopen_count = models.PositiveSmallIntegerField(default=0)
    public_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "category", "cell_s"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["department", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["reporter", "client_key"],
                                    condition=~Q(client_key=""), name="problem_unique_client_key"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category_id}"

    @property
    def number(self) -> str:
        return f"SP{self.created_at:%Y%m%d}{self.pk:06d}" if self.pk and self.created_at else ""


class Follower(models.Model):
    """A person who reported the problem or said "我也遇到" (a confirmation): they see its steps
    and may say "not fixed". `paid` records that the acceptance points went to them, so a merge
    that moves them never pays twice; the ledger's idempotency key is the second guard."""

    class Kind(models.TextChoices):
        REPORTER = "reporter", _("首报人")
        CONFIRMER = "confirmer", _("我也遇到")

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True)
    paid = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["problem", "user"],
                                               name="follower_unique")]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.user_id} {self.kind}"


def photo_path(instance: "Photo", filename: str) -> str:
    # Named by content hash (filename is ours, never the uploader's).
    return f"reports/{instance.sha256[:2]}/{filename}"


class Photo(models.Model):
    """A picture of a problem (before: with the report; after: with the resolution),
    re-encoded and stripped (core/images.py) and stored under its content hash. Uploaded ahead
    of the report (problem empty until the report names it). `blurred` is the staff's copy with
    faces and plates blurred; only a blurred (or checked) photo marked public is shown to
    the public.

    An upload is checked from its header and kept as it came (`incoming`, a name under
    MEDIA_ROOT that no view serves) while a task re-encodes it (`state` processing → ready);
    until then `file`, `thumb` and `sha256` are empty and width and height are the expected
    ones. Whoever asks for the picture first — the task, or a viewer — does the work once."""

    class Kind(models.TextChoices):
        BEFORE = "before", _("上报照片")
        AFTER = "after", _("处置照片")

    class State(models.TextChoices):
        PROCESSING = "processing", _("处理中")
        READY = "ready", _("可用")
        FAILED = "failed", _("无法读取")

    problem = models.ForeignKey(Problem, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="photos")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.BEFORE)
    sha256 = models.CharField(max_length=64, db_index=True, blank=True)
    file = models.FileField(upload_to=photo_path, max_length=120, blank=True)
    thumb = models.FileField(upload_to=photo_path, max_length=120, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.READY)
    incoming = models.CharField(max_length=120, blank=True)
    is_public = models.BooleanField(default=False)
    blurred_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["uploader", "problem"]),
                   models.Index(fields=["created_at"], name="reports_photo_processing",
                                condition=models.Q(state="processing"))]

    def __str__(self) -> str:
        return self.sha256[:12] or f"photo {self.pk}"


class ProblemEvent(models.Model):
    """One line of a problem's timeline (accepted, dispatched, resolved, "not fixed" …) with who,
    when and the note. Append-only, like a need's."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=24)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    department = models.ForeignKey("appeals.Department", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(max_length=1000, blank=True)
    public = models.BooleanField(default=True)  # shown on the public page (no names, ever)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.action}"


class Open311Client(TimeStampedModel):
    """Another civic-reporting system allowed to file and read problems through Open311
    GeoReport v2, with its own API key (issued by the district admin, stored as a hash, shown
    once), scoped to areas, revocable."""

    name = models.CharField(max_length=64)
    contact = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    key_hint = models.CharField(max_length=8, blank=True)
    areas = models.ManyToManyField("areas.Area", related_name="+")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
