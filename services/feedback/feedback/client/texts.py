"""Every text of the client's page, Swedish first, English beside it.

Plain language (the seeds: "verksamhet 3 finns ju inte"): no unit names, no codes, no words of the trade
where an everyday word will do. A test keeps the LIX of every Swedish text under 40
(tests/unit/feedback/test_readability.py).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from contracts.casework import Stage

LANGUAGES = ("sv", "en")
LOCAL = ZoneInfo("Europe/Stockholm")

STRINGS: dict[str, tuple[str, str]] = {
    "title": ("Ditt ärende", "Your case"),
    "intro": ("Här ser du hur det går med ditt ärende.", "Here you can see how your case is going."),
    "where": ("Var är ditt ärende nu?", "Where is your case now?"),
    "next": ("Nästa steg", "Next step"),
    "handler": ("Din handläggare", "Your case worker"),
    "handler_known": ("Du har en egen handläggare. Hen hjälper dig i ditt ärende.",
                      "You have a case worker of your own who helps you with your case."),
    "handler_none": ("Du har inte fått en handläggare än. Du får en så snart vi kan.",
                     "You do not have a case worker yet. You will get one as soon as we can."),
    "reach": ("Så når du oss", "How to reach us"),
    "reach_text": ("Ring {phone} och be att få tala med din handläggare. Du får ta med en person som stöd till dina möten.",
                   "Call {phone} and ask to speak to your case worker. You may bring someone for support to your meetings."),
    "waited": ("Hur länge du har väntat", "How long you have waited"),
    "waited_met": ("Du väntade {days} dagar på ditt första möte med din handläggare.",
                   "You waited {days} days for your first meeting with your case worker."),
    "waited_still": ("Du har väntat {days} dagar sedan du tog kontakt med oss.",
                     "You have waited {days} days since you contacted us."),
    "meeting": ("Ditt nästa möte", "Your next meeting"),
    "meeting_none": ("Du har inget möte bokat just nu.", "You have no meeting booked right now."),
    "questions": ("Frågor till dig", "Questions for you"),
    "questions_none": ("Vi har inga frågor till dig just nu.", "We have no questions for you right now."),
    "wait_how": ("Hur upplevde du väntetiden?", "How was the wait for you?"),
    "wait_what": ("Vad hade du velat göra under väntetiden?", "What would you have liked to do while you waited?"),
    "follow_up": ("Har du fått det du behövde?", "Did you get what you needed?"),
    "follow_up_more": ("Vill du berätta mer?", "Would you like to tell us more?"),
    "optional": ("Du behöver inte skriva något.", "You do not have to write anything."),
    "send": ("Skicka svar", "Send answer"),
    "thanks": ("Tack för ditt svar!", "Thank you for your answer!"),
    "private": ("Det du skriver läser bara vi som arbetar med ditt ärende.",
                "Only the people working on your case read what you write."),
    "no_pnr": ("Skriv inte ditt personnummer här.", "Do not write your personal identity number here."),
    "error": ("Vi kunde inte spara ditt svar. Försök igen.", "We could not save your answer. Please try again."),
    "other_language": ("In English", "På svenska"),
    "sign_out": ("Stäng sidan", "Close the page"),
    "session_note": ("Sidan stängs efter en stund. Be din handläggare om en ny länk när du vill se den igen.",
                     "The page closes after a while. Ask your case worker for a new link when you want to see it again."),
    "open_title": ("Öppna ditt ärende", "Open your case"),
    "open_text": ("Tryck på knappen för att se ditt ärende. Länken går bara att använda en gång.",
                  "Press the button to see your case. The link can only be used once."),
    "open_button": ("Visa mitt ärende", "Show my case"),
    "link_gone": ("Länken fungerar inte längre. Den kan vara använd eller för gammal. Be din handläggare om en ny.",
                  "The link no longer works. It may have been used or be too old. Ask your case worker for a new one."),
    "signed_out": ("Du ser inte ditt ärende just nu. Öppna länken du fick av din handläggare.",
                   "You cannot see your case right now. Open the link your case worker gave you."),
    "not_yours": ("Det här ärendet kan du inte se.", "You cannot see this case."),
}

SCALE: dict[int, tuple[str, str]] = {
    1: ("Mycket dåligt", "Very bad"), 2: ("Dåligt", "Bad"), 3: ("Varken bra eller dåligt", "Neither good nor bad"),
    4: ("Bra", "Good"), 5: ("Mycket bra", "Very good"),
}
FOLLOW_UP_ANSWERS: dict[str, tuple[str, str]] = {"yes": ("Ja", "Yes"), "partly": ("Delvis", "Partly"), "no": ("Nej", "No")}

WHERE: dict[Stage, tuple[str, str]] = {
    Stage.ACTUALISED: ("Vi har tagit emot din fråga om hjälp.", "We have received your request for help."),
    Stage.PRELIMINARY_ASSESSMENT: ("Vi går igenom vad du behöver hjälp med.", "We are looking at what you need help with."),
    Stage.INVESTIGATION: ("Vi tar reda på vilken hjälp som passar dig.", "We are finding out which help suits you."),
    Stage.DECISION: ("Vi ska snart bestämma vilken hjälp du får.", "We will soon decide which help you get."),
    Stage.INTERVENTION: ("Du får hjälp och stöd nu.", "You are getting help and support now."),
    Stage.CLOSED: ("Ditt ärende är klart och avslutat.", "Your case is finished and closed."),
}
NEXT: dict[Stage, tuple[str, str]] = {
    Stage.ACTUALISED: ("Du får träffa din handläggare. Hen berättar vad som händer sedan.",
                       "You will meet your case worker, who tells you what happens next."),
    Stage.PRELIMINARY_ASSESSMENT: ("Vi bestämmer om vi ska ta reda på mer. Du får veta vad vi kommer fram till.",
                                   "We decide whether to find out more. We will tell you what we decide."),
    Stage.INVESTIGATION: ("Din handläggare talar med dig om vad du behöver. Sedan får du ett beslut.",
                          "Your case worker talks with you about what you need. Then you get a decision."),
    Stage.DECISION: ("Du får ett beslut med posten eller på ett möte.", "You get a decision by post or at a meeting."),
    Stage.INTERVENTION: ("Du och din handläggare talar om hur det går för dig.",
                         "You and your case worker talk about how things are going for you."),
    Stage.CLOSED: ("Om ett år frågar vi om du fick det du behövde.", "In a year we will ask if you got what you needed."),
}

WEEKDAYS = (("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
            ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
MONTHS = (("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
           "november", "december"),
          ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"))


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGUAGES.index(lang)]


def strings(lang: str) -> dict[str, str]:
    return {key: pick(pair, lang) for key, pair in STRINGS.items()}


def when(moment: datetime, lang: str) -> str:
    """A meeting's time as people say it: «torsdag 10 december kl. 10.00» / «Thursday 10 December at 10:00»."""
    local, i = moment.astimezone(LOCAL), LANGUAGES.index(lang)
    day = f"{WEEKDAYS[i][local.weekday()]} {local.day} {MONTHS[i][local.month - 1]}"
    return f"{day} kl. {local:%H.%M}" if lang == "sv" else f"{day} at {local:%H:%M}"


def swedish_texts() -> list[str]:
    """Every Swedish text the page can show (for the readability test)."""
    pairs = [pair for key, pair in STRINGS.items() if key != "other_language"]  # that one is English on purpose
    pairs += [*SCALE.values(), *FOLLOW_UP_ANSWERS.values(), *WHERE.values(), *NEXT.values()]
    return [pair[0] for pair in pairs]
