from django.contrib.auth.backends import ModelBackend

from warmstation.accounts.models import User


class MobilePasswordBackend(ModelBackend):
    """Resolves the session's user. Sign-in itself goes through accounts.services (codes,
    passwords with lockout, TOTP), which then call django.contrib.auth.login."""

    def authenticate(self, request, mobile=None, password=None, **kwargs):
        return None  # never used directly: see accounts.services.staff_password_check

    def get_user(self, user_id):
        return User.objects.filter(pk=user_id, is_active=True).first()
