"""The endpoint's pages: Jinja2 templates from templates/web/, rendered with what every page shares."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jinja2
from starlette.responses import HTMLResponse, JSONResponse, Response

from newsletter import templating
from newsletter.config.settings import Config
from newsletter.errors import TemplateError
from newsletter.templating import render_template
from newsletter.translations import N_, catalog_source, day_month_year, translations
from subscribers.tables import Status
from subscribers.tokens import TokenSigner

SIGNUP = "web/signup.html"
NO_STORE = {"Cache-Control": "no-store"}


class Pages:
    """HTML (and JSON) answers; fixed pages are rendered once and reused."""

    def __init__(self, config: Config, signer: TokenSigner, now: Callable[[], datetime]) -> None:
        self.env = templating.environment(config)
        self._language = config.newsletter.language
        self._translations = translations(self._language)
        self._signer = signer
        self._now = now
        # Short, so that a harvested token soon stops working; a person who took longer sends again.
        self.form_lifetime = timedelta(minutes=config.web.form_minutes)
        self._shared = {"newsletter": config.newsletter, "pending_days": config.subscribers.pending_days}
        # The consent record names the exact words the person saw: a digest of the form's template, and of
        # the catalog its words were translated with (none for English).
        words = self._source(SIGNUP) + catalog_source(config.newsletter.language)
        self.signup_version = "signup-" + hashlib.sha256(words.encode()).hexdigest()[:12]
        self.stylesheet_text = self._source("web/site.css")
        self.script_text = self._source("web/altcha.js")
        self.proof_of_work = config.web.proof_of_work
        self._fixed = lru_cache(maxsize=64)(self._render_fixed)

    def check(self) -> None:
        """Render every page once, so a broken template stops `serve` at start and not at a visitor."""
        self.signup(error="check", problem="check")
        self.message("check", ("check",))
        self.welcome("manage?token=check")
        self.action("check", "check", "confirm", "token", "check")
        for status in Status:
            self.manage(status, [("check", "check")], "token", paused=True, notice="check", problem="check")

    def signup(self, *, status: int = 200, error: str | None = None, problem: str | None = None,
               headers: Mapping[str, str] | None = None) -> HTMLResponse:
        """The sign-up form with a fresh form token; `error` belongs to the field, `problem` to the form."""
        token = self._signer.form_token(self._now() + self.form_lifetime)
        html = self._render(SIGNUP, heading=self.words(N_("Subscribe")), form_token=token,
                            error=self.words(error) if error else error, problem=problem,
                            proof_of_work=self.proof_of_work)
        return HTMLResponse(html, status, headers={**NO_STORE, **(headers or {})})

    def words(self, text: str, **values: object) -> str:
        """`text` (English, as the code marks it with N_) in the readers' language, `values` filled in."""
        translated = self._translations.gettext(text)
        return translated % values if values else translated

    def moment(self, when: datetime) -> str:
        """A date and time in the readers' language: "4 December 2026, 14:05 UTC".

        The time is a left-to-right isolate (U+2066 ... U+2069): in a right-to-left sentence "14:05 UTC"
        would otherwise be laid out as "UTC 14:05", and the comma before it would move.
        """
        return self.words(N_("%(date)s, %(time)s"), date=day_month_year(when.date(), self._language),
                          time=f"\u2066{when:%H:%M} UTC\u2069")

    def weeks(self, count: int) -> str:
        """"2 weeks" in the readers' language (the words of the pause's choices on the reader's page)."""
        return self._translations.ngettext("%(num)s week", "%(num)s weeks", count) % {"num": count}

    def unconfirmed_are_deleted(self, days: int) -> str:
        """What becomes of a sign-up nobody confirms, in the readers' language (the page of a lost link)."""
        return self._translations.ngettext(
            "Sign-ups that are not confirmed within %(num)s day are deleted. Please sign up again.",
            "Sign-ups that are not confirmed within %(num)s days are deleted. Please sign up again.", days,
        ) % {"num": days}

    def duration(self, seconds: int) -> str:
        """"45 seconds" or "3 minutes", in the readers' language."""
        if seconds < 120:
            return self._translations.ngettext("%(num)d second", "%(num)d seconds", seconds) % {"num": seconds}
        minutes = round(seconds / 60)
        return self._translations.ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}

    def message(self, heading: str, paragraphs: Sequence[str], *, status: int = 200, back: bool = False,
                headers: Mapping[str, str] | None = None) -> HTMLResponse:
        """A page that only says something, in the readers' language; the same words give the same bytes."""
        html = self._fixed(self.words(heading), tuple(self.words(text) for text in paragraphs), back)
        return HTMLResponse(html, status, headers={**NO_STORE, **(headers or {})})

    def welcome(self, manage_link: str) -> HTMLResponse:
        """The page after confirming, with the link to the reader's own page (relative, like every link here)."""
        html = self._render("web/message.html", heading=self.words(N_("You are subscribed")), paragraphs=(
            self.words(N_("Thank you. The next issue comes to this address; every issue has a link to leave.")),),
            back="", link=(manage_link, self.words(N_("Manage your subscription"))))
        return HTMLResponse(html, headers=NO_STORE)

    def action(self, heading: str, explanation: str, action: str, token: str, button: str) -> HTMLResponse:
        """A page with one button that POSTs `token` to `action`; the words in the readers' language."""
        html = self._render("web/action.html", heading=self.words(heading), explanation=self.words(explanation),
                            action=action, token=token, button=self.words(button))
        return HTMLResponse(html, headers=NO_STORE)

    def manage(self, status: Status, kept: Sequence[tuple[str, str]], token: str, *, paused: bool,
               status_code: int = 200, notice: str | None = None, problem: str | None = None) -> HTMLResponse:
        """The reader's own page: what they can do in `status`, and `kept` (label, value) in plain words."""
        html = self._render("web/manage.html", heading=self.words(N_("Your subscription")), status=str(status),
                            kept=kept, token=token, paused=paused, notice=notice, problem=problem)
        return HTMLResponse(html, status_code, headers=NO_STORE)

    def stylesheet(self) -> Response:
        return Response(self.stylesheet_text, media_type="text/css",
                        headers={"Cache-Control": "public, max-age=3600"})

    def script(self) -> Response:
        """The proof-of-work solver; other sites' pages may load it too."""
        return Response(self.script_text, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=3600",
                                 "Cross-Origin-Resource-Policy": "cross-origin"})

    def _render_fixed(self, heading: str, paragraphs: tuple[str, ...], back: bool) -> str:
        return self._render("web/message.html", heading=heading, paragraphs=paragraphs,
                            back="./" if back else "", link=None)

    def _source(self, name: str) -> str:
        assert self.env.loader is not None
        try:
            return self.env.loader.get_source(self.env, name)[0]
        except jinja2.TemplateNotFound:
            raise TemplateError(f"template {name} not found; is templates_dir complete?") from None

    def _render(self, name: str, **values: Any) -> str:
        return render_template(self.env, name, self._shared | values)


def json_answer(body: dict[str, Any], status: int = 200, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON twin of a page, for clients that posted JSON."""
    return JSONResponse(body, status, headers={**NO_STORE, **(headers or {})})
