"""The HSDS 3.0 read API at /hsds/: its own NinjaAPI (own OpenAPI document, no auth), built
like /api/v1/ (UTF-8 JSON, problem+json errors), serving the stations app's HSDS router."""

from warmstation.config.api import UTF8JSONRenderer, WarmstationAPI, install_problem_handlers
from warmstation.stations.hsds import router

hsds = WarmstationAPI(
    title="37°C+ 暖心驿站 — Open Referral HSDS 3.0", version="hsds-3.0",
    description="Warm stations for delivery workers in Fangshan district, Beijing, as HSDS 3.0.",
    renderer=UTF8JSONRenderer(), urls_namespace="hsds", auth=None,
)
install_problem_handlers(hsds)
hsds.add_router("", router)
