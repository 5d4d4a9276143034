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
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from dailypapers.errors import Forbidden, NotFound, NotSignedIn
from dailypapers.jobs.registry import JOBS
from dailypapers.jobs.scheduler import run_now
from dailypapers.jobs.status import Status, counts_text, human_bytes, instance_status
from dailypapers.web.deps import LibraryDep, login_redirect
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.identity import current_user, require_user
from dailypapers.web.views import Html, Json, view

router = APIRouter(responses=ERROR_RESPONSES)
JobPath = Annotated[str, Path(description="A job's name, e.g. `ingest.announcements`.")]


def _require_admin(request: Request) -> None:
    if not require_user(request).is_admin:
        raise Forbidden("Only admins can see the status of the instance.")


def _context(request: Request, status: Status | None) -> dict[str, Any] | Response:
    if status is None:  # a visitor: the page sends them to log in (the JSON answers 401)
        return login_redirect("/admin/status")
    return {"status": status, "human_bytes": human_bytes, "counts_text": counts_text}


def _json(request: Request, status: Status | None) -> dict[str, Any]:
    if status is None:  # a visitor
        raise NotSignedIn("Sign in first: this needs an account.")
    return {"ok": True, **status.as_json()}


@view(
    router,
    Html("/admin/status", "admin_status.html", _context, summary="Papers, index and jobs (admins)"),
    Json("/api/admin/status", dict[str, Any], _json, summary="Papers, index and jobs, as JSON (admins)"),
)
def admin_status(request: Request, library: LibraryDep) -> Status | None:
    """The status of the instance (`dailypapers status --json` prints the same object). Admins only: a member gets
    403, a visitor the log-in page (the JSON: 401)."""
    if current_user(request) is None:
        return None
    _require_admin(request)
    return instance_status(library)


@router.post(
    "/admin/jobs/{name}/run",
    response_class=RedirectResponse,
    status_code=303,
    tags=["pages"],
    summary="Start a job now, in the background (admins, HTML form)",
)
def run_job(request: Request, library: LibraryDep, name: JobPath) -> Response:
    _require_admin(request)
    if name not in JOBS:
        raise NotFound(f"No job is named {name!r}.")
    threading.Thread(target=run_now, args=(library, name), name=f"dailypapers-job-{name}", daemon=True).start()
    return RedirectResponse("/admin/status#jobs", status_code=303)
