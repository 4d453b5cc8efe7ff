"""Two pages of the staff dashboard, Swedish first (``?lang=en``), server-rendered like the others (same sign-in
cookie, header and style: ``templates/base.html``):

- ``/notifications`` «Aviseringar»: the administration's notifications across administrations. Without a purpose,
  counts only; with one (``?purpose=``, logged like every case-level read) the notices themselves, open first,
  each with the ids of the administration's own contacts and cases it is about.
- ``/partners`` «Samarbetspartner»: the partner directory (services, where and when they receive people, how to
  reach them) and, per partner, referrals sent, reached during the wait, the median days from consent to contact.

Acknowledging a notice is a change, and the dashboard changes nothing: its sign-in cookie is accepted for reads
only (``eventkit.auth``: a cookie rides along with any request, so a form posting with it could be forged from
another site), and insight's permission table has no kind of change. So the page shows, by each open notice, the
sharing service's call that acknowledges it with the staff member's own token (``POST /notices/{id}/acknowledge``)
and links to that service's API page, where they can sign in and send it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from eventkit import access, permissions

from .feedback_views import Administration
from .i18n import label, strings
from .sharing_queries import directory_rows, notice_counts, notice_rows, partner_rows
from .sharing_views import PARTNER_KEYS, NoticeFacts, PartnerFacts, directory_entries, hidden, log_notices, notices_of

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

TEXTS: dict[str, tuple[str, str]] = {
    "notices_title": ("Aviseringar mellan förvaltningar", "Notifications across administrations"),
    "notices_intro": ("Här får din förvaltning veta när en person ni möter har flyttats mellan förvaltningar, är aktuell "
                      "hos två förvaltningar samtidigt, eller har slussats vidare flera gånger på kort tid (fallit mellan "
                      "stolarna). Ni ser bara era egna kontakter och ärenden; de andra förvaltningarna nämns vid namn.",
                      "Your administration is told here when a person you serve has been transferred between "
                      "administrations, is open in two administrations at once, or has been passed on several times in "
                      "a short while (fallen between chairs). You see your own contacts and cases only; the other "
                      "administrations are named."),
    "counts": ("Antal", "How many"), "open": ("Att bekräfta", "To acknowledge"), "acknowledged": ("Bekräftade", "Acknowledged"),
    "kind": ("Vad", "What"), "about": ("Gäller era", "Your ids"), "others": ("Andra förvaltningar", "Other administrations"),
    "raised": ("Hände", "Happened"), "notified": ("Aviserad", "Notified"), "status": ("Status", "Status"),
    "acknowledged_by": ("Bekräftad av {who} {at}", "Acknowledged by {who} on {at}"),
    "how_to_acknowledge": ("Så bekräftar du", "How to acknowledge"),
    "acknowledge_help": ("Bekräfta i samverkanstjänsten med din egen inloggning (dashboarden ändrar inget). Anropet "
                         "loggas med ditt namn. Öppna tjänstens API-sida, logga in och skicka:",
                         "Acknowledge at the sharing service, signed in as yourself (the dashboard changes nothing). "
                         "The call is logged with your name. Open the service's API page, sign in and send:"),
    "api_page": ("Samverkanstjänstens API-sida", "The sharing service's API page"),
    "none": ("Inga aviseringar.", "No notifications."),
    "times_in_days": ("{n} gånger på {d} dagar", "{n} times in {d} days"),
    "partners_title": ("Samarbetspartner", "Partner organisations"),
    "partners_intro": ("Frivilligorganisationer som kan ringa upp eller ta emot en person under väntan, när personen "
                       "själv har sagt ja. Siffrorna visar om de nådde personen innan första mötet med ansvarig "
                       "handläggare. Grupper med färre än {n} personer visas inte för andra förvaltningar.",
                       "Voluntary organisations that can call or receive a person during the wait, when the person has "
                       "said yes themselves. The figures show whether they reached the person before the first meeting "
                       "with the responsible handler. Groups of fewer than {n} people are not shown to other "
                       "administrations."),
    "directory": ("Vilka de är och när de tar emot", "Who they are and when they receive people"),
    "partner": ("Organisation", "Organisation"), "services": ("Erbjuder", "Offers"), "where_when": ("Var och när", "Where and when"),
    "reach": ("Kontakt", "Contact"), "delisted": ("(inte längre i katalogen)", "(no longer listed)"),
    "figures": ("Under väntan", "During the wait"),
    "sent": ("Skickade", "Sent"), "reached": ("Nådde personen", "Reached the person"),
    "during_wait": ("Före första mötet", "Before the first meeting"), "share": ("Andel", "Share"),
    "median_days": ("Dagar från samtycke till kontakt (median)", "Days from consent to contact (median)"),
    "hidden": ("färre än {n}", "fewer than {n}"), "no_partners": ("Inga partner i katalogen ännu.", "No partners listed yet."),
}
KINDS = {"case_transferred": ("Ärendet har flyttats mellan förvaltningar", "Case transferred between administrations"),
         "open_in_two": ("Aktuell hos två förvaltningar samtidigt", "Open in two administrations at once"),
         "passed_on_repeatedly": ("Fallit mellan stolarna: slussad vidare", "Fallen between chairs: passed on")}
DAYS = {"MO": ("måndagar", "Mondays"), "TU": ("tisdagar", "Tuesdays"), "WE": ("onsdagar", "Wednesdays"),
        "TH": ("torsdagar", "Thursdays"), "FR": ("fredagar", "Fridays"), "SA": ("lördagar", "Saturdays"),
        "SU": ("söndagar", "Sundays")}


def install(app: FastAPI) -> None:
    app.include_router(router)


def _context(request: Request, lang: str, title: str, **more: Any) -> dict[str, Any]:
    index, settings = ("sv", "en").index(lang), request.app.state.settings
    t = strings(lang) | {key: pair[index] for key, pair in TEXTS.items()}
    t["partners_intro"], t["hidden"] = t["partners_intro"].format(n=settings.min_group_size), t["hidden"].format(n=settings.min_group_size)
    t["title"], zone = t[title], ZoneInfo(settings.timezone)
    return {"lang": lang, "t": t, "who": request.state.grant.who,
            "administration": lambda code: label(lang, "Administration", code),
            "kind": lambda value: KINDS.get(value, (value, value))[index],
            "day_name": lambda value: DAYS.get(value, (value, value))[index],
            "when": lambda at: "–" if at is None else at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "switch_language": "?" + urlencode({**request.query_params, "lang": "en" if lang == "sv" else "sv"}),
            **more}


@router.get("/notifications", response_class=HTMLResponse,
            dependencies=[Depends(permissions.guard("insight", permissions.Kind.READ))])
async def notifications_page(request: Request, facts: NoticeFacts, who: Administration, lang: Literal["sv", "en"] = "sv",
                             purpose: Annotated[access.Purpose | None, Depends(access.chosen_purpose)] = None) -> HTMLResponse:
    rows = notices_of(await notice_rows(*facts, who)) if purpose is not None else []
    if purpose is not None:
        await log_notices(request, purpose, rows)
    sharing_url = request.app.state.settings.sharing_url.rstrip("/")
    context = _context(request, lang, "notices_title", purpose=purpose, purposes=list(access.Purpose), notices=rows,
                       counts=[dict(r) for r in await notice_counts(*facts, who)], sharing_url=sharing_url,
                       purpose_label=lambda p: label(lang, "Purpose", p))
    return templates.TemplateResponse(request, "notifications.html", context)


@router.get("/partners", response_class=HTMLResponse,
            dependencies=[Depends(permissions.guard("insight", permissions.Kind.AGGREGATE))])
async def partners_page(request: Request, facts: PartnerFacts, who: Administration,
                        lang: Literal["sv", "en"] = "sv") -> HTMLResponse:
    figures = hidden(request, await partner_rows(*facts, request.app.state.settings.db_schema, who), PARTNER_KEYS)
    context = _context(request, lang, "partners_title", directory=directory_entries(await directory_rows(*facts)), figures=figures,
                       pct=lambda v: "–" if v is None else f"{round(v * 100)} %",
                       num=lambda v: "–" if v is None else (f"{v:.1f}".replace(".", ",") if lang == "sv" else f"{v:.1f}"))
    return templates.TemplateResponse(request, "partners.html", context)
