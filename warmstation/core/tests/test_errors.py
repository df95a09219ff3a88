"""The error model (docs/decisions/0003-error-model.md): one status per class, a stable code,
the message in both languages, and no app building its own."""

import ast
import json
from pathlib import Path

import pytest
from django.utils.translation import gettext_lazy as _

from warmstation.core.errors import (
    ERROR_CLASSES,
    ApplicationError,
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    error_for_status,
    problem_from_error,
)

APPS = Path(__file__).resolve().parents[2]
EXPECTED = [
    (InvalidInput, 422, "invalid_input", "输入有误。", "Invalid input."),
    (Conflict, 409, "conflict", "当前状态不允许此操作。", "The current state does not allow this."),
    (NotFound, 404, "not_found", "未找到该记录。", "Not found."),
    (PermissionDenied, 403, "forbidden", "您的角色无权执行此操作。", "Your role does not allow this."),
    (NotAuthenticated, 401, "not_authenticated", "请先登录。", "Please sign in first."),
    (RateLimited, 429, "rate_limited", "操作过于频繁，请稍后再试。",
     "Too many requests: try again shortly."),
    (ServiceUnavailable, 503, "unavailable", "服务暂时不可用，请稍后再试。",
     "The service is unavailable for a moment: try again shortly."),
]


@pytest.mark.parametrize("cls, status, code, zh, en", EXPECTED, ids=[e[0].__name__ for e in EXPECTED])
def test_each_class_has_one_status_a_code_and_both_languages(cls, status, code, zh, en):
    # when
    error = cls()
    response = problem_from_error(None, error)
    body = json.loads(response.content)

    # then
    assert (error.status, error.code) == (status, code)
    assert (error.message_zh, error.message_en) == (zh, en)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert body["code"] == code and body["detail"] == {"zh": zh, "en": en}


def test_the_classes_are_all_the_statuses_there_are():
    assert sorted(c.status for c in ERROR_CLASSES) == [401, 403, 404, 409, 422, 429, 503]


def test_a_gettext_message_is_rendered_in_both_languages_with_its_params():
    # when
    error = Conflict(_("每个驿站最多 %(n)s 张照片。"), params={"n": 12}, code="too_many")

    # then
    assert error.message_zh == "每个驿站最多 12 张照片。"
    assert error.message_en == "A station has at most 12 photos."
    assert error.message("en") == error.message_en and error.message("zh-hans") == error.message_zh


def test_an_explicit_pair_is_kept_as_given_and_field_reaches_the_body():
    # when
    error = InvalidInput("雨伞库存不足。", "Not enough umbrellas.", code="out_of_stock",
                         field="item")
    body = json.loads(problem_from_error(None, error).content)

    # then
    assert body["detail"] == {"zh": "雨伞库存不足。", "en": "Not enough umbrellas."}
    assert body["field"] == "item"


def test_limits_say_when_to_come_back():
    # when
    limited = problem_from_error(None, RateLimited(extra={"retry_after": 30}))
    down = problem_from_error(None, ServiceUnavailable(extra={"retry_after": 5}))
    anonymous = problem_from_error(None, NotAuthenticated())

    # then
    assert limited["Retry-After"] == "30" and down["Retry-After"] == "5"
    assert anonymous["WWW-Authenticate"].startswith("Bearer")


def test_a_stored_refusal_is_rebuilt_as_the_class_of_its_status():
    # when
    rebuilt = error_for_status(409, "该笔流水已冲正。", "This transaction is already reversed.",
                               code="already_reversed")

    # then
    assert type(rebuilt) is Conflict and rebuilt.code == "already_reversed"


def _python_files():
    return [p for p in APPS.rglob("*.py") if not {"migrations", "tests"} & set(p.parts)]


def test_no_app_builds_an_error_by_hand():
    """Every raise is one of the classes: no `ApplicationError(...)` outside core/errors.py, no
    `status=` given to an error, no app-local subclass of ApplicationError itself."""
    offenders = []
    for path in _python_files():
        if path.name == "errors.py" and path.parent.name == "core":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name == "ApplicationError":
                    offenders.append(f"{path.relative_to(APPS)}:{node.lineno} ApplicationError()")
                if name in {c.__name__ for c in ERROR_CLASSES} and \
                        any(k.arg == "status" for k in node.keywords):
                    offenders.append(f"{path.relative_to(APPS)}:{node.lineno} status=")
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", "") == "ApplicationError" for b in node.bases):
                offenders.append(f"{path.relative_to(APPS)}:{node.lineno} class {node.name}")
    assert offenders == []


def test_application_error_takes_no_status_override():
    with pytest.raises(TypeError):
        ApplicationError("x", "x", status=400)  # type: ignore[call-arg]
