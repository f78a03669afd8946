"""The archive on the web: `/issues/` lists past issues, `/issues/<week>` shows one, `/issues/feed.xml`.

Pages are rendered from templates/web/ with the excerpts an issue was started with, never from the
email itself: an email carries its reader's address and unsubscribe link, a web page carries nobody's.
An issue's excerpts are fixed once it exists, so its page is rendered once and kept.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime

import anyio.to_thread
import jinja2
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter import templating
from newsletter.config.settings import Config
from newsletter.content import store as excerpts
from newsletter.content.excerpt import Excerpt
from newsletter.errors import WeekError
from newsletter.issues import store as issues
from newsletter.templating import render_template
from newsletter.translations import translations
from newsletter.weeks import IsoWeek

ATOM = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 20
CACHED_PAGES = 64
CACHE = {"Cache-Control": "public, max-age=300"}


@dataclass(frozen=True)
class IssueSummary:
    """One line of the archive: the week, when it was made, and its excerpts' titles."""

    week: str
    subject: str
    created_at: datetime
    titles: tuple[str, ...]

    @property
    def monday(self) -> date:
        return IsoWeek.parse(self.week).monday

    @property
    def sunday(self) -> date:
        return IsoWeek.parse(self.week).sunday


class Archive:
    """The archive's request handlers over the issues in the database."""

    def __init__(self, config: Config, engine: Engine) -> None:
        self.config = config
        self.sessions = sessionmaker(engine)
        self.env = templating.environment(config)
        self._words = translations(config.newsletter.language)
        self.base_url = config.web.base_url.rstrip("/")
        self._pages: OrderedDict[str, str] = OrderedDict()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/issues/", self.index, methods=["GET"]),
            Route("/issues/feed.xml", self.feed, methods=["GET"]),
            # The pages link "site.css" relatively (they may sit behind a proxy under a path).
            Route("/issues/site.css", self.stylesheet, methods=["GET"]),
            Route("/issues/{week}", self.issue, methods=["GET"]),
        ]

    async def index(self, request: Request) -> Response:
        issues = await anyio.to_thread.run_sync(self.summaries, None)
        heading = self._words.gettext("%(title)s: past issues") % {"title": self.config.newsletter.title}
        html = self._render("web/issues.html", heading=heading, issues=issues)
        return HTMLResponse(html, headers=CACHE)

    async def issue(self, request: Request) -> Response:
        text = request.path_params["week"]
        try:
            week = IsoWeek.parse(text)
        except WeekError:
            week = None
        if week is None or str(week) != text:
            raise HTTPException(404, "There is no such issue. The list of issues is at /issues/.")
        html = self._pages.get(text) or await anyio.to_thread.run_sync(self._issue_page, week)
        if html is None:
            raise HTTPException(404, f"There is no issue for {week} (yet). The list of issues is at /issues/.")
        return HTMLResponse(html, headers=CACHE)

    async def feed(self, request: Request) -> Response:
        issues = await anyio.to_thread.run_sync(self.summaries, FEED_ENTRIES)
        return Response(atom_feed(self.config, issues), media_type="application/atom+xml", headers=CACHE)

    async def stylesheet(self, request: Request) -> Response:
        return Response(self._source("web/site.css"), media_type="text/css",
                        headers={"Cache-Control": "public, max-age=3600"})

    def summaries(self, limit: int | None) -> list[IssueSummary]:
        """The latest `limit` issues (all when None), newest first, each with its excerpts' titles."""
        with self.sessions() as session:
            found = issues.latest(session, limit)
            carried = issues.excerpt_ids_by_issue(session, [issue.id for issue in found])
            titles = excerpts.titles(session, {i for ids in carried.values() for i in ids})
        return [IssueSummary(issue.week, issue.subject, issue.created_at,
                             tuple(titles[i] for i in carried[issue.id] if i in titles)) for issue in found]

    def _issue_page(self, week: IsoWeek) -> str | None:
        with self.sessions() as session:
            found = _issue(session, week)
        if found is None:
            return None
        subject, excerpts = found
        dates = self.env.filters["date_range"](week.monday, week.sunday)
        heading = self._words.gettext("Week %(number)d: %(dates)s") % {"number": week.week, "dates": dates}
        html = self._render("web/issue.html", heading=heading,
                            subject=subject, excerpts=excerpts, week=str(week))
        self._pages[str(week)] = html
        while len(self._pages) > CACHED_PAGES:
            self._pages.popitem(last=False)
        return html

    def _render(self, name: str, **values: object) -> str:
        return render_template(self.env, name, {"newsletter": self.config.newsletter, **values})

    def _source(self, name: str) -> str:
        assert self.env.loader is not None
        try:
            return self.env.loader.get_source(self.env, name)[0]
        except jinja2.TemplateNotFound:
            raise HTTPException(404, "No stylesheet here.") from None


def _issue(session: Session, week: IsoWeek) -> tuple[str, list[Excerpt]] | None:
    issue = issues.find(session, week)
    if issue is None:
        return None
    return issue.subject, issues.excerpts_of(session, issue.id)


def atom_feed(config: Config, issues: list[IssueSummary]) -> bytes:
    """An Atom 1.0 feed of `issues` (newest first): one entry per issue, linking to its page."""
    base = config.web.base_url.rstrip("/")
    ET.register_namespace("", ATOM)

    def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": config.newsletter.language})
    add(feed, "id", f"{base}/issues/")
    add(feed, "title", config.newsletter.title)
    add(feed, "updated", _stamp(issues[0].created_at if issues else datetime(2000, 1, 1, tzinfo=UTC)))
    add(feed, "link", rel="alternate", type="text/html", href=f"{base}/issues/")
    add(feed, "link", rel="self", type="application/atom+xml", href=f"{base}/issues/feed.xml")
    author = add(feed, "author")
    add(author, "name", config.newsletter.from_name or config.newsletter.title)
    for issue in issues:
        url = f"{base}/issues/{issue.week}"
        entry = add(feed, "entry")
        add(entry, "id", url)
        add(entry, "title", issue.subject)
        add(entry, "updated", _stamp(issue.created_at))
        add(entry, "link", rel="alternate", type="text/html", href=url)
        add(entry, "summary", " · ".join(issue.titles))
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def routes(config: Config, engine: Engine) -> list[BaseRoute]:
    """The archive's routes, for the web app to include."""
    return Archive(config, engine).routes()
