"""Swedish first, English on request: a label for every enum value and every UI string.

Plain language: staff and managers read this, so no internal codes where a word will do.
"""

from __future__ import annotations

from enum import StrEnum

LANGUAGES = ("sv", "en")

ENUM_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    # enum class name → value → (Swedish, English)
    "Area": {"addiction": ("Missbruk", "Addiction"), "social_psychiatry": ("Socialpsykiatri", "Social psychiatry"),
             "homelessness": ("Hemlöshet", "Homelessness"), "income_support": ("Försörjning", "Income support"),
             "other": ("Annat", "Other")},
    "Channel": {"phone": ("Telefon", "Phone"), "visit": ("Besök i mottagningen", "Visit at reception"),
                "digital": ("Digitalt", "Digital"), "partner_drop_in": ("Partners mottagningstid", "Partner drop-in"),
                "outreach": ("Uppsökande", "Outreach")},
    "ChannelGroup": {"reception": ("Mottagningen", "Reception"), "outreach": ("Uppsökande", "Outreach"),
                     "partner": ("Via partner", "Via a partner")},
    "ChannelFilter": {"phone": ("Telefon", "Phone"), "visit": ("Besök i mottagningen", "Visit at reception"),
                      "digital": ("Digitalt", "Digital"), "partner_drop_in": ("Partners mottagningstid", "Partner drop-in"),
                      "outreach": ("Uppsökande", "Outreach"), "reception": ("Mottagningen (alla)", "Reception (all)"),
                      "partner": ("Via partner", "Via a partner")},
    "Gender": {"female": ("Kvinna", "Woman"), "male": ("Man", "Man"), "other": ("Annat", "Other"),
               "unknown": ("Okänt", "Unknown")},
    "Dimension": {"area": ("Område", "Area"), "channel": ("Kontaktväg", "Channel"),
                  "channel_group": ("Ingång", "Entry"), "administration": ("Förvaltning", "Administration"),
                  "gender": ("Kön", "Gender"), "month": ("Månad", "Month"), "year": ("År", "Year")},
    "Anchor": {"first_contact_day": ("Dag för första kontakt", "Day of first contact"),
               "closed_day": ("Dag för avslut", "Day of closure"),
               "decision_day": ("Dag för beslut", "Day of decision")},
    "DecisionType": {"income_support": ("Försörjningsstöd", "Income support"),
                     "addiction_care": ("Missbruksvård", "Addiction care"), "housing": ("Boende", "Housing"),
                     "housing_support": ("Boendestöd", "Housing support"), "other": ("Annat", "Other")},
    "DecisionOutcome": {"granted": ("Bifall", "Granted"), "partly_granted": ("Delvis bifall", "Partly granted"),
                        "refused": ("Avslag", "Refused")},
    "WaitStage": {"contact_to_referral": ("Första kontakt → överlämning", "First contact → referral"),
                  "referral_to_assignment": ("Överlämning → handläggare utsedd", "Referral → handler assigned"),
                  "assignment_to_meeting": ("Handläggare utsedd → första mötet", "Handler assigned → first meeting")},
    "Stage": {"actualised": ("Aktualisering", "Case opened"), "preliminary_assessment": ("Förhandsbedömning", "Preliminary assessment"),
              "investigation": ("Utredning", "Investigation"), "decision": ("Beslut", "Decision"),
              "intervention": ("Insats och uppföljning", "Intervention and follow-up"), "closed": ("Avslutat", "Closed")},
    "Specialism": {"addiction": ("Missbruk", "Addiction"), "mental_health": ("Psykisk ohälsa", "Mental health"),
                   "homelessness": ("Hemlöshet", "Homelessness"), "income_support": ("Försörjning", "Income support"),
                   "general": ("Allmän", "General")},
    "HandlerChangeReason": {"staff_turnover": ("Personalbyte", "Staff turnover"), "specialism": ("Specialisering", "Specialism"),
                            "client_wish": ("Klientens önskan", "The client's wish"), "other": ("Annat", "Other")},
    "ContactMethod": {"phone": ("Telefon", "Phone"), "letter": ("Brev", "Letter"), "visit": ("Hembesök", "Visit"),
                      "via_partner": ("Via partner", "Via a partner")},
    "ContactOutcome": {"reached": ("Fick kontakt", "Reached"), "no_answer": ("Inget svar", "No answer"),
                       "message_left": ("Lämnade meddelande", "Message left"),
                       "returned": ("Brevet kom tillbaka", "Letter returned")},
    "ClosureReason": {"stable_housing": ("Stabilt boende", "Stable housing"), "self_support": ("Egen försörjning", "Self-supporting"),
                      "moved": ("Flyttat", "Moved"), "other_municipality": ("Annan kommun", "Other municipality"),
                      "unreachable": ("Gick inte att nå", "Unreachable"), "declined": ("Tackade nej", "Declined"),
                      "deceased": ("Avliden", "Deceased"), "other": ("Annat", "Other")},
    "HousingContract": {"first_hand": ("Förstahandskontrakt", "First-hand lease"),
                        "second_hand": ("Andrahandskontrakt", "Sublease"), "training_flat": ("Träningslägenhet", "Training flat"),
                        "lodger": ("Inneboende", "Lodger"), "owned": ("Eget ägande", "Owned")},
    "SipStatus": {"none": ("Ingen SIP", "No SIP"), "offered": ("Erbjuden", "Offered"), "declined": ("Avböjd", "Declined"),
                  "established": ("Upprättad", "Established")},
    "IncomeSupportStatus": {"arranged": ("Ordnat", "Arranged"), "not_arranged": ("Inte ordnat", "Not arranged"),
                            "applied": ("Ansökt", "Applied"), "not_needed": ("Behövs inte", "Not needed")},
    "ClosedWithoutCaseReason": {"information_given": ("Fick information", "Information given"),
                                "referred_elsewhere": ("Hänvisad vidare", "Referred elsewhere"),
                                "withdrawn": ("Återtagen", "Withdrawn"), "other": ("Annat", "Other")},
    # Administrations are codes, not an enum: the ones known here get a name, others show as their code.
    "Administration": {"social-services": ("Socialförvaltningen", "Social services"),
                       "amf": ("Arbetsmarknadsförvaltningen", "Labour market administration"),
                       "care": ("Vård- och omsorgsförvaltningen", "Care administration")},
    "Purpose": {"handling": ("Handläggning", "Handling"), "follow-up": ("Uppföljning", "Follow-up"),
                "supervision": ("Arbetsledning", "Supervision"), "audit": ("Granskning", "Audit"),
                "statistics-check": ("Kontroll av statistiken", "Checking the figures")},
    "ContinuityMeasure": {"handler_changes": ("Byten av handläggare", "Handler changes"),
                          "staff_met_before_first_meeting": ("Personal träffad före första mötet",
                                                             "Staff met before the first meeting")},
}


def label(lang: str, enum_name: str, value: object) -> str:
    """The label of an enum value; an unknown value (a newer event) shows as itself rather than failing."""
    if value is None:
        return "–"
    raw = value.value if isinstance(value, StrEnum) else str(value)
    pair = ENUM_LABELS.get(enum_name, {}).get(raw)
    return pair[LANGUAGES.index(lang)] if pair else raw


def strings(lang: str) -> dict[str, str]:
    index = LANGUAGES.index(lang)
    return {key: pair[index] for key, pair in UI.items()}


UI: dict[str, tuple[str, str]] = {
    "title": ("Väntetid till första mötet", "Waiting time to the first meeting"),
    "intro": ("Tiden från första kontakten till första mötet med ansvarig handläggare. Siffrorna bygger på händelser från mottagningen, uppsökarna och handläggningen.",
              "The time from the first contact to the first meeting with the responsible case handler, built from the events of reception, outreach and casework."),
    "skip": ("Hoppa till innehållet", "Skip to the content"),
    "other_language": ("In English", "På svenska"),
    "signed_in_as": ("Inloggad som", "Signed in as"),
    "administration_of": ("förvaltning", "administration"),
    "no_administration": ("ingen förvaltning", "no administration"),
    "sign_out": ("Logga ut", "Sign out"),
    "filters": ("Urval", "Filters"),
    "from": ("Från och med", "From"),
    "to": ("Till och med", "To"),
    "all": ("Alla", "All"),
    "group_by": ("Dela upp efter", "Split by"),
    "at_risk_only": ("Visa bara personer i riskzonen i väntelistan", "Only show people at risk on the waiting list"),
    "show": ("Visa", "Show"),
    "purpose": ("Syfte (för att se enskilda ärenden)", "Purpose (to see individual cases)"),
    "purpose_none": ("Inget – bara siffror", "None – figures only"),
    "purpose_needed": ("Välj ett syfte i urvalet för att se de enskilda ärendena. Varje visning loggas: vem, när, vilka ärenden och varför.",
                       "Choose a purpose in the filters to see the individual cases. Every view is logged: who, when, which cases and why."),
    "reset": ("Rensa urvalet", "Clear the filters"),
    "period_note": ("Perioden gäller dagen för första kontakt (för utfall: dagen för avslut).",
                    "The period is the day of first contact (for outcomes: the day of closure)."),
    "as_of": ("Läget per", "As of"),
    "key_figures": ("I korthet", "At a glance"),
    "waiting_now_count": ("Väntar nu", "Waiting now"),
    "at_risk_count": ("I riskzonen", "At risk"),
    "median_wait": ("Hälften har fått träffa handläggaren inom", "Half have met their handler within"),
    "p90_wait": ("9 av 10 har fått träffa handläggaren inom", "9 in 10 have met their handler within"),
    "ci": ("95 % konfidensintervall", "95 % confidence interval"),
    "not_reached": ("inte nått ännu", "not reached yet"),
    "still_waiting_after": ("väntar fortfarande efter", "still waiting after"),
    "km_counted": ("väntar fortfarande – räknade med bland alla {cases} som hört av sig ({closed} avslutades före första mötet)",
                   "still waiting – counted among all {cases} who came ({closed} closed before a first meeting)"),
    "ended_waits": ("median / 9 av 10, bara avslutade väntetider", "median / 9 in 10, ended waits only"),
    "came": ("Hört av sig", "Came"),
    "still_waiting_28": ("Väntar efter 28 dagar", "Waiting after 28 days"),
    "ended_median": ("Median, bara avslutade", "Median, ended waits only"),
    "ended_p90": ("9 av 10, bara avslutade", "9 in 10, ended waits only"),
    "survival_note": ("Median och 9 av 10 räknar med alla som hört av sig: den som fortfarande väntar räknas med fram till i dag, "
                      "den vars ärende avslutades före första mötet fram till avslutet (Kaplan–Meier). Inom parentes 95 % konfidensintervall; "
                      "– betyder att värdet inte är nått ännu. De två sista kolumnerna räknar bara dem som redan fått sitt möte.",
                      "Median and 9 in 10 count everyone who came: someone still waiting counts up to today, someone whose case closed "
                      "before a first meeting up to the closure (Kaplan–Meier). In brackets the 95 % confidence interval; – means not "
                      "reached yet. The last two columns count only those who have already had their meeting."),
    "csv_ended": ("bara avslutade väntetider som CSV", "ended waits only as CSV"),
    "lost_count": ("Tappade under väntan", "Lost during the wait"),
    "days": ("dagar", "days"),
    "day_unit": ("dagar", "days"),
    "wait_heading": ("Väntetid", "The wait"),
    "wait_chart": ("Väntetid i dagar: median och den tid inom vilken 9 av 10 fick sitt första möte",
                   "Wait in days: the median, and the time within which 9 in 10 had their first meeting"),
    "trend_heading": ("Utveckling månad för månad", "Month by month"),
    "trend_chart": ("Väntetid per månad för första kontakt", "Wait by month of first contact"),
    "stages_heading": ("Var går tiden?", "Where does the time go?"),
    "stages_chart": ("Genomsnittligt antal dagar i varje steg (stegen summerar till hela väntan)",
                     "Average days in each step (the steps add up to the whole wait)"),
    "waiting_heading": ("Väntar nu", "Waiting now"),
    "waiting_intro": ("Alla som ännu inte har träffat sin handläggare, de som varit utan kontakt längst först. "
                      "I riskzonen: {days} dagar eller mer sedan senaste kontakt åt båda hållen (nådd per telefon, möte, "
                      "träffat personal); ett obesvarat försök räknas inte, det visas bredvid.",
                      "Everyone who has not yet met their handler, the longest without contact first. "
                      "At risk: {days} days or more since the last two-way contact (reached, a meeting, staff met); "
                      "an unanswered attempt does not count, it is shown beside."),
    "lost_heading": ("Tappade under väntan", "Lost during the wait"),
    "route_unreachable": ("Gick inte att nå (ärendet avslutat)", "Could not be reached (case closed)"),
    "route_declined": ("Tackade nej (ärendet avslutat)", "Declined (case closed)"),
    "route_reception": ("Kontakt i mottagningen avslutad utan ärende", "Reception contact closed without a case"),
    "route_outreach": ("Uppsökarkontakt utan ärende, tyst i {days} dagar", "Outreach contact without a case, silent for {days} days"),
    "lost_intro": ("Ärenden som avslutades för att personen inte gick att nå eller tackade nej, innan första mötet.",
                   "Cases closed because the person could not be reached or declined, before the first meeting."),
    "outcomes_heading": ("Utfall vid avslut", "Outcomes at closure"),
    "outcomes_intro": ("Mål: minst {housing} % avslutas till stabilt boende, högst {again} % aktualiseras igen inom ett år.",
                       "Goals: at least {housing} % closed to stable housing, at most {again} % back within a year."),
    "outcomes_chart": ("Andel av avslutade ärenden, med målen som streckade linjer",
                       "Share of closed cases, with the goals as dashed lines"),
    "continuity_heading": ("Kontinuitet", "Continuity"),
    "continuity_chart": ("Antal ärenden efter antal byten av handläggare och antal personal träffade före första mötet",
                         "Cases by number of handler changes and by staff met before the first meeting"),
    "how_we_count": ("Så räknar vi", "How we count"),
    "how_we_count_text": ("Väntan börjar vid första kontakten och slutar vid första mötet med ansvarig handläggare; "
                          "ett möte med någon annan stoppar inte klockan. Dagar räknas i kalenderdagar. "
                          "Ett ärende räknas till den förvaltning som var ansvarig när väntan mättes. "
                          "9 av 10-värdet är den 90:e percentilen, skattad med Kaplan–Meier över alla som hört av sig.",
                          "The wait starts at the first contact and ends at the first meeting with the responsible "
                          "handler; a meeting with someone else does not stop the clock. Days are calendar days. "
                          "A case counts for the administration responsible when the wait was measured. "
                          "The 9-in-10 figure is the 90th percentile, estimated with Kaplan–Meier over everyone who came."),
    "fewer_than": ("färre än {n}", "fewer than {n}"),
    "no_data": ("Inga ärenden i urvalet.", "No cases in the selection."),
    "csv": ("Ladda ner som CSV", "Download as CSV"),
    # table headings
    "cases": ("Ärenden", "Cases"),
    "median": ("Median (dagar)", "Median (days)"),
    "p90": ("9 av 10 inom (dagar)", "9 in 10 within (days)"),
    "mean": ("Medel (dagar)", "Mean (days)"),
    "step": ("Steg", "Step"),
    "stages_table": ("Genomsnittligt antal dagar per steg", "Average days per step"),
    "whole_wait": ("Hela väntan", "The whole wait"),
    "month": ("Månad", "Month"),
    "opened": ("Nya", "New"),
    "met": ("Har träffat handläggare", "Met their handler"),
    "waiting": ("Väntar", "Waiting"),
    "lost": ("Tappade", "Lost"),
    "case": ("Ärende", "Case"),
    "area": ("Område", "Area"),
    "entry": ("Ingång", "Entry"),
    "channel": ("Kontaktväg", "Channel"),
    "administration": ("Förvaltning", "Administration"),
    "gender": ("Kön", "Gender"),
    "first_contact": ("Första kontakt", "First contact"),
    "days_waited": ("Dagar i väntan", "Days waiting"),
    "handler": ("Handläggare utsedd", "Handler assigned"),
    "attempts": ("Kontaktförsök", "Contact attempts"),
    "last_attempt": ("Senaste försök", "Last attempt"),
    "days_without_contact": ("Dagar utan kontakt", "Days without contact"),
    "at_risk": ("I riskzonen", "At risk"),
    "yes": ("Ja", "Yes"),
    "no": ("Nej", "No"),
    "closed_on": ("Avslutat", "Closed"),
    "reason": ("Orsak", "Reason"),
    "attempts_before_closing": ("Kontaktförsök före avslut", "Attempts before closing"),
    "lost_share": ("Andel tappade", "Share lost"),
    "year": ("År", "Year"),
    "closed": ("Avslutade", "Closed"),
    "stable_housing_share": ("Till stabilt boende", "To stable housing"),
    "self_supporting_share": ("Egen försörjning", "Self-supporting"),
    "reactualised_share": ("Tillbaka inom ett år", "Back within a year"),
    "not_yet_final": ("inte slutligt ännu ({n} avslut yngre än ett år)", "not yet final ({n} closures less than a year old)"),
    "of_people": ("av {n} personer följda ett helt år", "of {n} people followed a full year"),
    "self_supporting_need_share": ("Egen försörjning, av dem med behov av försörjningsstöd",
                                   "Self-supporting, of those needing income support"),
    "contracts": ("Kontrakt (stabilt boende)", "Lease (stable housing)"),
    "goal_met": ("Målet nått", "Goal met"),
    "goal_housing": ("Mål stabilt boende", "Goal stable housing"),
    "goal_again": ("Mål tillbaka inom ett år", "Goal back within a year"),
    "with_handler_change": ("Minst ett byte av handläggare", "At least one handler change"),
    "mean_staff_met": ("Personal träffad före första mötet (medel)", "Staff met before the first meeting (mean)"),
    "value": ("Antal", "Number"),
    "measure": ("Mått", "Measure"),
    "share": ("Andel", "Share"),
}
