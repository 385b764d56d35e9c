"""The read-only web application behind ``policywatch serve``.

Starlette routes render Jinja templates; every request opens the database read-only and
closes it before answering, so a running crawl is never blocked. Errors a user can cause
are pages with a clear message and a proper status (400, 404); a database that cannot be
opened is a 503 page. Nothing is loaded from elsewhere: the stylesheet is served by the app
and the charts are inline SVG.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from store import db as store_db
from store import facts as store_facts
from store import runs as store_runs
from store import themes as store_themes
from store import web_queries
from store.amount_text import format_gbp
from web import charts, search
from web.highlight import Span, render, sentence_around

HERE = Path(__file__).resolve().parent


class PageError(Exception):
    """A problem to show as a page: HTTP ``status`` and a one-line ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["gbp"] = format_gbp
    env.globals["urlencode"] = urlencode
    return env


def create_app(db_path: str | Path) -> Starlette:
    """The application over the database at ``db_path`` (opened read-only per request)."""
    env = _templates()
    database = Path(db_path)

    @contextmanager
    def read_only() -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            con = store_db.connect(database, read_only=True)
        except store_db.StoreError as exc:
            raise PageError(503, str(exc)) from None
        try:
            yield con
        finally:
            con.close()

    def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
        html = env.get_template(template).render(
            request=request, db_name=database.name, nav=request.url.path, **context)
        return HTMLResponse(html, status_code=status)

    # ------------------------------------------------------------------ pages

    def home(request: Request) -> Response:
        return RedirectResponse("/search", status_code=302)

    def search_page(request: Request) -> Response:
        try:
            wanted = search.parse_search(request.query_params)
        except search.BadRequest as exc:
            raise PageError(400, str(exc)) from None
        columns = search.COLUMNS[wanted.kind]
        with read_only() as con:
            try:
                rows = search.run_search(con, wanted)
            except search.NotFound as exc:
                raise PageError(404, str(exc)) from None
        try:
            shown, pages = search.page_of(rows, wanted.page)
        except search.NotFound as exc:
            raise PageError(404, str(exc)) from None
        fmt = request.query_params.get("format", "html")
        if fmt == "csv":
            return Response(search.as_csv(shown, columns), media_type="text/csv",
                            headers={"Content-Disposition":
                                     f'attachment; filename="{wanted.kind}.csv"'})
        if fmt == "json":
            return Response(search.as_json(shown, columns), media_type="application/json")
        if fmt != "html":
            raise PageError(400, f"format {fmt!r} is not one of: html, csv, json")
        base = {k: v for k, v in request.query_params.items() if k not in ("format",) and v}
        return page(request, "search.html", search=wanted, rows=shown, total=len(rows),
                    pages=pages, columns=columns, base=base, capped=len(rows) >= search.MAX_ROWS,
                    roles=search.ROLES, ratings=search.RATINGS, org_types=search.ORG_TYPES)

    def org_page(request: Request) -> Response:
        name = request.path_params["name"]
        with read_only() as con:
            org = web_queries.find_org(con, name)
            if org is None:
                near = store_facts.search_orgs(con, name, limit=5)
                hint = ("; did you mean " + ", ".join(r["name"] for r in near) + "?") \
                    if near else ""
                raise PageError(404, f"no organisation called {name!r}{hint}")
            ratings = web_queries.org_ratings(con, org["org_id"])
            amounts = web_queries.org_amounts(con, org["org_id"])
            stories = web_queries.org_stories(con, org["org_id"])
            themes = web_queries.org_themes(con, org["org_id"])
        by_year = web_queries.money_by_year(amounts)
        return page(
            request, "org.html", org=org, ratings=ratings, amounts=amounts, stories=stories,
            themes=themes, by_year=by_year,
            timeline=charts.ratings_timeline(ratings, label=f"Ratings of {org['name']}"),
            money_chart=charts.stacked_bars(
                by_year, x="year", y="total_gbp", stack="role", money=True,
                label=f"Money facts about {org['name']} by year", css_class="money-chart"),
        )

    def story_page(request: Request) -> Response:
        story_id = request.path_params["story_id"]
        with read_only() as con:
            detail = web_queries.story_detail(con, story_id)
        if detail is None:
            raise PageError(404, f"no story {story_id!r}")
        body = detail["story"]["body"]
        spans = [Span(m["start_offset"], m["end_offset"], "org", i, f"{m['name']} ({m['type']})")
                 for i, m in enumerate(detail["mentions"])]
        for i, a in enumerate(detail["amounts"]):
            if a["start_offset"] is not None:
                title = " · ".join(str(v) for v in (a["role"], a["org_name"], a["period"]) if v)
                spans.append(Span(a["start_offset"], a["end_offset"], "amount", i, title))
        for i, r in enumerate(detail["ratings"]):
            if r["start_offset"] is not None:
                spans.append(Span(r["start_offset"], r["end_offset"], "rating", i,
                                  f"{r['org_name']}: {r['rating']}"))
        focus = None
        at = request.query_params.get("at")
        if at is not None:
            if not at.isdigit():
                raise PageError(400, f"at {at!r} is not a character offset")
            offset = int(at)
            sentence = next((f["sentence"] for f in detail["amounts"] + detail["ratings"]
                             if f["start_offset"] == offset), None)
            focus = sentence_around(body, sentence, offset)
        return page(request, "story.html", detail=detail, text=render(body, spans, focus),
                    focused=focus is not None)

    def themes_page(request: Request) -> Response:
        with read_only() as con:
            themes = store_themes.list_themes(con)
        return page(request, "themes.html", themes=themes)

    def theme_page(request: Request) -> Response:
        raw = request.path_params["theme_id"]
        if not raw.isdigit():
            raise PageError(400, f"theme id {raw!r} is not a number")
        theme_id = int(raw)
        with read_only() as con:
            detail = store_themes.theme_detail(con, theme_id, top=20)
            if detail is None:
                raise PageError(404, f"no theme {theme_id}; the themes page lists them")
            weekly = web_queries.theme_weekly_counts(con, theme_id)
            stories = web_queries.theme_stories(con, theme_id)
        for row in weekly:
            row["label"] = row["week"].isoformat()
        return page(request, "theme.html", detail=detail, weekly=weekly, stories=stories,
                    chart=charts.stacked_bars(weekly, x="label", y="stories", stack=None,
                                              label="Stories per week",
                                              css_class="weekly-chart"))

    def changes_page(request: Request) -> Response:
        raw = request.query_params.get("since", "").strip()
        with read_only() as con:
            if raw:
                try:
                    since = date.fromisoformat(raw)
                except ValueError:
                    raise PageError(400, f"since {raw!r} is not a date: use YYYY-MM-DD") \
                        from None
            else:
                latest = web_queries.latest_story_date(con) or date.today()
                since = latest - timedelta(days=30)
            changes = web_queries.changes_since(con, since)
        return page(request, "changes.html", since=since, changes=changes)

    def status_page(request: Request) -> Response:
        with read_only() as con:
            sources = store_runs.source_stats(con)
            runs = store_runs.recent_runs(con, per_source=3)
            counts = store_facts.stored_counts(con)
        failing = [s for s in sources if s["flag"] or s["last_status"] == "failed"]
        return page(request, "status.html", sources=sources, runs=runs, counts=counts,
                    failing=failing)

    # ------------------------------------------------------------------ errors

    def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return page(request, "error.html", status=exc.status, status_code=exc.status,
                    message=exc.message)

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        return page(request, "error.html", status=exc.status_code,
                    status_code=exc.status_code, message=message)

    def database_error(request: Request, exc: Exception) -> Response:
        return page(request, "error.html", status=503, status_code=503,
                    message=f"database error: {str(exc).splitlines()[0]}")

    def server_error(request: Request, exc: Exception) -> Response:
        return page(request, "error.html", status=500, status_code=500,
                    message="something went wrong on the server; the error was not shown")

    routes = [
        Route("/", home),
        Route("/search", search_page),
        Route("/org/{name:path}", org_page),
        Route("/story/{story_id}", story_page),
        Route("/themes", themes_page),
        Route("/theme/{theme_id}", theme_page),
        Route("/changes", changes_page),
        Route("/status", status_page),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={
            PageError: page_error,
            HTTPException: http_error,
            duckdb.Error: database_error,
            Exception: server_error,
        },
    )


def serve(db_path: str | Path, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the application with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(db_path), host=host, port=port, log_level="warning")
