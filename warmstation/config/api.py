"""The one NinjaAPI at /api/v1/: UTF-8 JSON, bearer tokens or the session, problem+json errors."""

import json

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer, SessionAuth

from warmstation.accounts.services import api_token_authenticate
from warmstation.core.errors import ApplicationError, problem, problem_from_error


class UTF8JSONRenderer(JSONRenderer):
    """Chinese stays readable in the body (ninja escapes non-ASCII by default)."""

    def render(self, request, data, *, response_status):
        return json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False)


class BearerAuth(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class WarmstationAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Declare error bodies as application/problem+json, which is what they are."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if str(status).startswith(("4", "5")) and "application/json" in content:
                        content["application/problem+json"] = content.pop("application/json")
        return schema


api = WarmstationAPI(
    title="37°C+ 暖心驿站 API",
    version="1",
    description="warmstation: services for delivery workers in Fangshan district. "
    "Errors are application/problem+json with `detail.zh` and `detail.en`.",
    renderer=UTF8JSONRenderer(),
    auth=[BearerAuth(), SessionAuth()],
    urls_namespace="api",
)


def on_application_error(request, exc: ApplicationError):
    return problem_from_error(request, exc)


def on_validation_error(request, exc: ValidationError):
    fields = []
    for err in exc.errors:
        loc = ".".join(str(p) for p in err.get("loc", []) if p not in ("body", "query", "path"))
        fields.append({"field": loc, "message": err.get("msg", "")})
    names = "、".join(f["field"] for f in fields if f["field"]) or "?"
    # The constrained types of core/schemas.py carry their message in both languages.
    ctx = (exc.errors[0].get("ctx") or {}) if len(exc.errors) == 1 else {}
    if isinstance(ctx.get("zh"), str) and isinstance(ctx.get("en"), str):
        return problem(
            request, status=422, code=exc.errors[0].get("type") or "invalid_input",
            message_zh=f"{names}：{ctx['zh']}", message_en=f"{names}: {ctx['en']}",
            extra={"errors": fields},
        )
    return problem(
        request, status=422, code="invalid_input",
        message_zh=f"输入有误：{names}。", message_en=f"Invalid input: {names}.",
        extra={"errors": fields},
    )


def on_auth_error(request, exc):
    return problem(request, status=401, code="not_authenticated",
                   message_zh="请先登录。", message_en="Please sign in first.")


def on_404(request, exc):
    return problem(request, status=404, code="not_found",
                   message_zh="未找到该记录。", message_en="Not found.")


def on_http_error(request, exc: HttpError):
    return problem(request, status=exc.status_code, code="http_error",
                   message_zh=str(exc), message_en=str(exc))


def install_problem_handlers(target: NinjaAPI) -> None:
    """Every API of ours answers errors as problem+json in Chinese and English."""
    target.add_exception_handler(ApplicationError, on_application_error)
    target.add_exception_handler(ValidationError, on_validation_error)
    target.add_exception_handler(AuthenticationError, on_auth_error)
    target.add_exception_handler(Http404, on_404)
    target.add_exception_handler(HttpError, on_http_error)


install_problem_handlers(api)

api.add_router("/auth", "warmstation.accounts.api.auth_router")
api.add_router("/me", "warmstation.accounts.api.me_router")
api.add_router("/workers", "warmstation.accounts.api.workers_router")
api.add_router("/areas", "warmstation.areas.api.router")
api.add_router("/places", "warmstation.stations.api.places_router")
api.add_router("/stations", "warmstation.stations.api.router")
api.add_router("/points", "warmstation.points.api.router")
api.add_router("/benefits", "warmstation.benefits.api.router")
api.add_router("/appeals", "warmstation.appeals.api.router")
