"""The feedback page of the staff dashboard, ``/feedback``: what clients said, in tables, Swedish first
(``?lang=en``), each table with its CSV. Server-rendered like the dashboard (same sign-in cookie, same header
and style: ``templates/base.html``); tables only, no charts. The figures are the API's (``feedback_views``), small groups hidden the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from eventkit import permissions

from .feedback_queries import complaint_rows, follow_up_rows, satisfaction_rows, wait_experience_rows, wait_summary_rows
from .feedback_views import ADMINISTRATION_KEY, COMPLAINT_KEYS, WAIT_KEYS, Administration, Facts, hidden
from .i18n import label, strings

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

TEXTS: dict[str, tuple[str, str]] = {
    "title": ("Vad brukarna säger", "What clients say"),
    "intro": ("Svaren på frågorna om väntan vid första mötet, nöjdheten efter besök, synpunkter och klagomål, och "
              "uppföljningen ett år efter avslut. Grupper med färre än {n} personer visas inte för andra förvaltningar.",
              "The answers to the questions about the wait at the first meeting, satisfaction after visits, complaints, "
              "and the follow-up a year after closure. Groups of fewer than {n} people are not shown to other "
              "administrations."),
    "dashboard": ("Till väntetiderna", "To the waiting times"),
    "wait": ("Upplevelsen av väntan", "The experience of the wait"),
    "wait_caption": ("«Hur upplevde du väntetiden?» (1 mycket dåligt – 5 mycket bra) efter dagar till första mötet",
                     "«How was the wait?» (1 very bad – 5 very good) by days to the first meeting"),
    "waited": ("Dagar i väntan", "Days waited"), "answers": ("Svar", "Answers"), "mean": ("Medel", "Mean"),
    "good": ("Andel bra (4–5)", "Share good (4–5)"), "bad": ("Andel dåligt (1–2)", "Share bad (1–2)"),
    "correlation": ("Samband mellan väntan och upplevelse (r)", "Correlation of wait and experience (r)"),
    "correlation_note": ("Negativt r: ju längre väntan, desto sämre upplevelse.",
                         "A negative r: the longer the wait, the worse the experience."),
    "satisfaction": ("Nöjdhet efter besök (happy or not)", "Satisfaction after visits (happy or not)"),
    "satisfaction_caption": ("Nöjdhetsindex = mycket nöjda och nöjda ÷ alla svar × 100",
                             "Satisfaction index = very satisfied and satisfied ÷ all answers × 100"),
    "unit": ("Enhet", "Unit"), "month": ("Månad", "Month"), "satisfied": ("Nöjda", "Satisfied"),
    "index": ("Nöjdhetsindex", "Satisfaction index"),
    "complaints": ("Synpunkter och klagomål", "Complaints"),
    "complaints_caption": ("Efter steg, och hur många som är sena", "By step, and how many are late"),
    "status": ("Steg", "Step"), "count": ("Antal", "Number"),
    "late_contact": ("Sen kontakt från chef", "Manager's contact late"),
    "late_answer": ("Sent skriftligt svar", "Written answer late"),
    "follow_ups": ("Uppföljning efter ett år", "Follow-up after a year"),
    "follow_ups_caption": ("«Har du fått det du behövde?»", "«Did you get what you needed?»"),
    "scheduled": ("Väntar på att skickas", "Waiting to be sent"), "unanswered": ("Skickade, obesvarade", "Sent, unanswered"),
    "yes": ("Ja", "Yes"), "partly": ("Delvis", "Partly"), "no": ("Nej", "No"),
    "administration": ("Förvaltning", "Administration"), "none": ("Inga svar ännu.", "No answers yet."),
    "hidden": ("färre än {n}", "fewer than {n}"),
    "received": ("mottagen", "received"), "contacted": ("kontaktad", "contacted"),
    "answered": ("besvarad", "answered"), "closed": ("avslutad", "closed"),
}


def install(app: FastAPI) -> None:
    app.include_router(router)


@router.get("/feedback", response_class=HTMLResponse,
            dependencies=[Depends(permissions.guard("insight", permissions.Kind.AGGREGATE))])
async def feedback_page(request: Request, facts: Facts, who: Administration, lang: Literal["sv", "en"] = "sv") -> HTMLResponse:
    index, n = ("sv", "en").index(lang), request.app.state.settings.min_group_size
    t = strings(lang) | {key: pair[index] for key, pair in TEXTS.items()}
    t["intro"], t["hidden"] = t["intro"].format(n=n), t["hidden"].format(n=n)
    grant: permissions.Grant = request.state.grant
    query = {"administration": who} if who else {}
    context = {
        "lang": lang, "t": t, "who": grant.who, "administration": lambda code: label(lang, "Administration", code),
        "switch_language": "?" + urlencode({**request.query_params, "lang": "en" if lang == "sv" else "sv"}),
        "csv": lambda view: f"/api/feedback/{view}.csv" + (f"?{urlencode(query)}" if query else ""),
        "num": lambda value, digits=2: "–" if value is None else (f"{value:.{digits}f}".replace(".", ",") if lang == "sv"
                                                                  else f"{value:.{digits}f}"),
        "waits": hidden(request, await wait_experience_rows(*facts, who), WAIT_KEYS),
        "summaries": hidden(request, await wait_summary_rows(*facts, who), ADMINISTRATION_KEY),
        "satisfaction": [dict(r) for r in await satisfaction_rows(*facts, who)],
        "complaints": hidden(request, await complaint_rows(*facts, who), COMPLAINT_KEYS),
        "follow_ups": hidden(request, await follow_up_rows(*facts, who), ADMINISTRATION_KEY),
    }
    return templates.TemplateResponse(request, "feedback.html", context)
