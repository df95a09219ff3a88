"""Every app says how a person's data leaves with them (core/privacy.py). A model that points at
the user model must be covered by some registered eraser, and every app of ours holding such a
model must have registered, so a new app cannot forget."""

from django.apps import apps
from django.conf import settings

from warmstation.core import privacy


def _models_pointing_at_people() -> dict[str, str]:
    """{model label: app label} for every model with a foreign key (or one-to-one) to users."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found = {}
    for model in apps.get_models():
        if model is user_model:
            continue
        for field in model._meta.get_fields():
            if field.concrete and field.is_relation and field.related_model is user_model:
                found[model._meta.label_lower] = model._meta.app_label
    return found


def test_every_model_that_points_at_a_person_is_covered():
    uncovered = set(_models_pointing_at_people()) - privacy.covered_models()
    assert not uncovered, f"register an eraser covering {sorted(uncovered)} (core/privacy.py)"


def test_every_app_of_ours_with_personal_data_registered():
    registered = {r.app_label for r in privacy.registrations()}
    ours = {c.label for c in apps.get_app_configs() if c.name.startswith("warmstation.")}
    holding = {app for app in _models_pointing_at_people().values() if app in ours}
    holding.add(apps.get_model(settings.AUTH_USER_MODEL)._meta.app_label)
    assert holding <= registered, f"{sorted(holding - registered)} must register in privacy.py"


def test_what_a_registration_covers_exists():
    labels = {m._meta.label_lower for m in apps.get_models()}
    assert privacy.covered_models() <= labels


def test_the_accounts_eraser_runs_last():
    order = [r.app_label for r in privacy.registrations()]
    assert order[-1] == "accounts"
