from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from warmstation.core.crypto import EncryptedTextField
from warmstation.core.models import TimeStampedModel

mobile_validator = RegexValidator(
    r"^1[3-9][0-9]{9}$", "请输入11位手机号。 Enter an 11-digit mainland mobile number."
)


class AuthLevel(models.IntegerChoices):
    """How strongly this session proved who it is. Roles only act at or above their level:
    a district admin signed in by SMS code is just a worker until they sign in with password
    and TOTP."""

    NONE = 0, _("未登录")
    CODE = 1, _("短信验证码")
    PASSWORD = 2, _("密码")
    MFA = 3, _("密码+动态码")


class Role(models.TextChoices):
    WORKER = "worker", _("小哥")
    STEWARD = "steward", _("服务管家")
    MERCHANT = "merchant", _("合作商户")
    DEPARTMENT = "department", _("部门工作人员")
    AREA_ADMIN = "area_admin", _("街乡/社区管理员")
    DISTRICT_ADMIN = "district_admin", _("区级管理员")
    RESIDENT = "resident", _("居民")
    # Roles of the capability issues (#13–#15), declared together so their apps share one
    # migration of this table: the command centre triages snap-and-report cases, an organiser
    # runs volunteer tasks, the housing office (区住建委) the housing resources, the district
    # union (区总工会) membership.
    COMMAND_CENTRE = "command_centre", _("城管指挥中心")
    ORGANISER = "organiser", _("志愿活动组织者")
    HOUSING_OFFICE = "housing_office", _("住房保障工作人员")
    UNION_STAFF = "union_staff", _("工会工作人员")


ROLE_MIN_LEVEL: dict[str, AuthLevel] = {
    Role.WORKER: AuthLevel.CODE,
    Role.RESIDENT: AuthLevel.CODE,
    Role.STEWARD: AuthLevel.PASSWORD,
    Role.MERCHANT: AuthLevel.PASSWORD,
    Role.DEPARTMENT: AuthLevel.PASSWORD,
    Role.COMMAND_CENTRE: AuthLevel.PASSWORD,
    Role.ORGANISER: AuthLevel.PASSWORD,
    Role.HOUSING_OFFICE: AuthLevel.PASSWORD,
    Role.UNION_STAFF: AuthLevel.PASSWORD,
    Role.AREA_ADMIN: AuthLevel.MFA,
    Role.DISTRICT_ADMIN: AuthLevel.MFA,
}
STAFF_ROLES = frozenset(r for r, level in ROLE_MIN_LEVEL.items() if level >= AuthLevel.PASSWORD)
ADMIN_ROLES = frozenset({Role.AREA_ADMIN, Role.DISTRICT_ADMIN})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, mobile: str, password: str | None = None, **fields: Any) -> "User":
        user = self.model(mobile=mobile, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, mobile: str, password: str | None = None,
                         **fields: Any) -> "User":
        """`createsuperuser` makes a district admin (the only role the Django admin admits)."""
        user = self.create_user(mobile, password, **fields)
        from warmstation.areas.models import Area

        root = Area.objects.filter(parent=None).order_by("path").first()
        if root is None:
            raise ValueError("Load areas first (manage.py seed_demo or an area import).")
        RoleGrant.objects.create(user=user, role=Role.DISTRICT_ADMIN, area=root)
        return user


class User(AbstractBaseUser):
    """A person who uses the system, known by their mainland mobile number (手机号) and real name
    (实名). What they may do comes from their RoleGrants, not from flags on this row."""

    mobile = models.CharField(max_length=32, unique=True, validators=[mobile_validator])
    real_name = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # Staff sign-in protection.
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    totp_secret = EncryptedTextField(blank=True, default="")
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_step = models.BigIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "mobile"
    REQUIRED_FIELDS = ["real_name"]

    # Transient, per request: set by the session middleware or the bearer-token auth.
    auth_level: int = AuthLevel.NONE
    # Set by the bearer-token auth: which token this request came with.
    api_token_id: int | None = None

    class Meta:
        verbose_name = "用户 user"

    def __str__(self) -> str:
        return self.real_name or self.mobile

    # Django admin gate: only district admins who signed in with TOTP reach the admin.
    @property
    def is_staff(self) -> bool:
        return self.is_active and self.has_role(Role.DISTRICT_ADMIN)

    @property
    def is_superuser(self) -> bool:
        return self.is_staff

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_staff

    def has_perms(self, perm_list, obj=None) -> bool:
        return self.is_staff

    def has_module_perms(self, app_label) -> bool:
        return self.is_staff

    def active_grants(self) -> list["RoleGrant"]:
        """The grants this session may use: those whose role's sign-in level it has reached.
        Cached on the instance for the request."""
        if not self.is_active or self.pk is None:
            return []
        return [g for g in self.grants_held() if self.auth_level >= ROLE_MIN_LEVEL[g.role]]

    def grants_held(self, *, using: str | None = None) -> list["RoleGrant"]:
        """Every grant this person holds, active at this session's level or not, with their
        areas and departments. Cached on the instance for the request (and with a cached
        bearer-token sign-in, across requests: accounts/services.api_token_authenticate).
        `using`: the database to read them from the first time (the router's choice otherwise)."""
        cache = getattr(self, "_grants_cache", None)
        if cache is None:
            grants = self.grants.using(using) if using else self.grants.all()
            cache = list(grants.select_related("area", "department"))
            self._grants_cache = cache
        return cache

    def has_role(self, *roles: str) -> bool:
        return any(g.role in roles for g in self.active_grants())

    def forget_grants(self) -> None:
        self.__dict__.pop("_grants_cache", None)


class RoleGrant(TimeStampedModel):
    """A role held by a person, scoped to an area (and everything below it), and for department
    staff to a department. A person may hold several. Stations and merchants get their own
    scope columns when those apps land."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(max_length=24, choices=Role.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="role_grants")
    department = models.ForeignKey(
        "appeals.Department", null=True, blank=True, on_delete=models.PROTECT,
        related_name="role_grants",
    )
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "area"], condition=Q(department=None),
                name="rolegrant_unique_area",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "department"], condition=Q(department__isnull=False),
                name="rolegrant_unique_department",
            ),
            models.CheckConstraint(
                condition=~Q(role="department") | Q(department__isnull=False),
                name="rolegrant_department_staff_has_department",
            ),
        ]

    def __str__(self) -> str:
        scope = self.department or self.area
        return f"{self.get_role_display()} @ {scope}"


class Brand(models.Model):
    """A company or platform workers work for: the 11 express brands of the Fangshan meeting,
    美团, 饿了么, ride-hailing platforms."""

    class Kind(models.TextChoices):
        EXPRESS = "express", _("快递")
        FOOD = "food_delivery", _("外卖")
        RIDE = "ride_hailing", _("网约车")
        OTHER = "other", _("其他")

    code = models.SlugField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=32)
    name_en = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name_zh


class WorkerProfile(TimeStampedModel):
    """A new-employment worker (新就业群体): courier, rider or driver, with where they work."""

    class JobType(models.TextChoices):
        COURIER = "courier", _("快递员")
        FOOD = "food_delivery", _("外卖骑手")
        RIDE = "ride_hailing", _("网约车司机")
        OTHER = "other", _("其他")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="worker_profile")
    job_type = models.CharField(max_length=16, choices=JobType.choices)
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.PROTECT)
    areas = models.ManyToManyField("areas.Area", related_name="workers", blank=True)
    # 身份证号, collected only where a service needs it; encrypted at rest, masked on screen.
    id_number = EncryptedTextField(blank=True, default="")
    # Put on the list by someone else (a base-data import: services.worker_enrol) and not yet
    # agreed to the terms and privacy policy themselves: their first sign-in asks for it before
    # anything else (middleware.TermsDueMiddleware), and worker_register clears it. A database
    # default too, so rows written by plain SQL (bench/, bulk loads) need not name it.
    terms_due = models.BooleanField(default=False, db_default=False)

    def __str__(self) -> str:
        return f"{self.user} ({self.get_job_type_display()})"


class ConsentRecord(models.Model):
    """A worker's consent, or its withdrawal, to one processing purpose (PIPL art. 14): kept
    as a history, never edited."""

    class Purpose(models.TextChoices):
        TERMS = "terms", _("服务协议与隐私政策")
        LOCATION = "location", _("精确位置")
        NOTICES = "notices", _("接收通知")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    version = models.CharField(max_length=16, default="2026-11")
    granted = models.BooleanField()
    at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.purpose} {'+' if self.granted else '-'} {self.at:%Y-%m-%d}"


class SmsCode(models.Model):
    """A one-time sign-in code sent by SMS. Only its hash is stored."""

    mobile = models.CharField(max_length=32, db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.mobile[:3]}****{self.mobile[-4:]} {self.created_at:%H:%M}"


class ApiToken(models.Model):
    """A bearer token for API clients (the worker app, a partner system). Only its hash is
    stored; it carries the sign-in level it was issued at."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    name = models.CharField(max_length=64, blank=True)
    auth_level = models.PositiveSmallIntegerField(choices=AuthLevel.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
