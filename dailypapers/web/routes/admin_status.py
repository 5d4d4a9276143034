"""The status page for admins: ``GET /admin/status`` (HTML) and ``GET /api/admin/status`` (JSON), one view.

What is stored and indexed (papers, embeddings of the configured model, index and database size, the newest
announcement day), and for each job its schedule, next run, newest run (status, duration, counts, error) and newest
successful run: the same :func:`dailypapers.jobs.status.instance_status` that ``dailypapers status`` prints.
``POST /admin/jobs/{name}/run`` starts a job now, in a background thread (a request never waits for a job), and
sends the admin back to the page. A visitor gets the log-in page, a member 403.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from dailypapers.errors import Forbidden, NotFound
from dailypapers.jobs.registry import JOBS
from dailypapers.jobs.scheduler import run_now
from dailypapers.jobs.status import human_bytes, instance_status
from dailypapers.web.deps import LibraryDep, login_redirect
from dailypapers.web.responses import allow_head
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.identity import current_user, require_user
from dailypapers.web.templating import render

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)
api_router = APIRouter(prefix="/api", tags=["api"], responses=ERROR_RESPONSES)
JobPath = Annotated[str, Path(description="A job's name, e.g. `ingest.announcements`.")]


def _require_admin(request: Request) -> None:
    if not require_user(request).is_admin:
        raise Forbidden("Only admins can see the status of the instance.")


@router.get("/admin/status", summary="Papers, index and jobs (admins)")
def status_page(request: Request, library: LibraryDep) -> Response:
    if current_user(request) is None:
        return login_redirect("/admin/status")
    _require_admin(request)
    status = instance_status(library)
    return render(request, "admin_status.html", {"status": status, "human_bytes": human_bytes})


@api_router.get("/admin/status", summary="Papers, index and jobs, as JSON (admins)")
def status_json(request: Request, library: LibraryDep) -> dict[str, Any]:
    """The status of the instance (`dailypapers status --json` prints the same object)."""
    _require_admin(request)
    return {"ok": True, **instance_status(library).as_json()}


@router.post(
    "/admin/jobs/{name}/run",
    response_class=RedirectResponse,
    status_code=303,
    summary="Start a job now, in the background (admins, HTML form)",
)
def run_job(request: Request, library: LibraryDep, name: JobPath) -> Response:
    _require_admin(request)
    if name not in JOBS:
        raise NotFound(f"No job is named {name!r}.")
    threading.Thread(target=run_now, args=(library, name), name=f"dailypapers-job-{name}", daemon=True).start()
    return RedirectResponse("/admin/status#jobs", status_code=303)


allow_head(router)
allow_head(api_router)
