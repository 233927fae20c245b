"""Score the answers a user reads: run each request end to end and check the answer's words.

The planner has its own benchmark (``eval_planner.py``), but a correct plan can still end in an
answer that drops the facts, invents what no model saw or claims a skill nothing installed has.
This script asks the whole assistant, one request at a time, and checks the answer's summary (the
prose above the results section, never the section itself, which is made from the records and is
right by construction) against regular expressions: every ``must`` has to match, no ``must_not``
may. Regexes, not an LLM judge: cheap, offline, and a failure says exactly which word was missing.

    python scripts/eval_answers.py --label baseline
    python scripts/eval_answers.py --only translation follow-up --controller google/gemma-3-270m

The dev set (``benchmarks/answers_dev.jsonl``) holds one JSON object a line::

    {"id", "kind", "request", "files": [fixture names], "must": [regex], "must_not": [regex],
     "follow_up_of": id or null}

Fixtures are made here, offline and deterministically, in a temporary folder (see ``FIXTURES``);
the assistant's data folder is a fresh temporary one too, so the history and saved prefix states
of the user's own folder are neither read nor written. Results go to
``benchmarks/results/answers-<date>-<label>.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.events import Event, EventKind  # noqa: E402

DEFAULT_DATA = ROOT / "benchmarks" / "answers_dev.jsonl"
RESULTS = ROOT / "benchmarks" / "results"
ROLE_FLAGS = ("controller", "planner", "writer")


# -- fixtures: made here so the dev set needs no binary files and no download

NOTES = (
    "Meeting notes, 14 October 2026. Lucia Romero, head of sales at Verdana Foods, reported that "
    "exports grew by 12 percent in the third quarter, mostly thanks to new restaurant customers "
    "in Madrid. The team agreed to open a second warehouse near Valencia in January, and Romero "
    "will hire two more drivers before then. The next review meeting is on 2 December.\n"
)

LIBRARY = (
    "Elm Street Public Library: visitor information\n\n"
    "The library is open Monday to Friday from 9 am to 8 pm and on Saturdays from 10 am to 4 pm. "
    "It is closed on Sundays and public holidays. A library card is free for residents of the "
    "town; replacing a lost card costs 3 euros. Members may borrow up to twelve books at a time "
    "for three weeks. The children's reading hour takes place every Wednesday at 4 pm and is led "
    "by Tobias Brandt, who has run it since 2019. The reading room on the second floor has "
    "forty desks and free wireless access.\n"
)

# (district, manager, homes, km of main replaced, local leakage cut in percent, a story, a plan)
DISTRICTS = [
    ("Northgate", "Priya Raman", 21400, 14, 22,
     "a burst main under Station Road on 9 February left 600 homes without water for six hours",
     "replacing the last cast-iron pipes around the old market square"),
    ("Millbrook", "Owen Castellano", 16800, 9, 15,
     "volunteers from Millbrook Secondary School helped map every fire hydrant in the district",
     "a new pumping station on Quarry Lane, budgeted at 2.1 million dollars"),
    ("Saltmarsh", "Hannah Kowalczyk", 9300, 6, 27,
     "the spring tides in April pushed brackish water into two shallow wells, which were closed",
     "sealing the remaining coastal wells and connecting their users to the main network"),
    ("Eastfield", "Daniel Mbeki", 25100, 17, 19,
     "the district trialled smart meters in 1,200 homes and found 140 hidden leaks in gardens",
     "extending the smart meter trial to every home in Eastfield by the end of 2027"),
    ("Larkspur Hill", "Sofia Lindqvist", 7200, 4, 11,
     "low pressure on the hilltop streets was finally solved with a booster pump in June",
     "a second booster pump so that the hill keeps its pressure during repairs"),
    ("Riverside", "Marcus Delgado", 18900, 12, 24,
     "the flood of 3 November damaged a valve chamber, which crews rebuilt in eleven days",
     "raising three valve chambers above the new flood line drawn by the county"),
    ("Copper Flats", "Amara Osei", 11500, 8, 16,
     "a mining company paid for 3 kilometres of new pipe after its trucks cracked an old main",
     "a water fountain programme for the district's four primary schools"),
    ("Westmere", "Thomas Fairbanks", 14300, 10, 20,
     "residents reported a brown tint in tap water in August, traced to a corroded service pipe",
     "flushing every main in the district twice a year instead of once"),
    ("Oakhurst", "Leila Haddad", 19600, 11, 13,
     "the district office moved to a renovated fire station on Birch Avenue in May",
     "a customer help desk at the new office, open on Saturday mornings"),
    ("Pinecrest", "Victor Nakamura", 8700, 5, 21,
     "a wildfire in July came within two kilometres of the Pinecrest reservoir",
     "a firebreak and a backup intake for the reservoir"),
    ("Harbor Point", "Grace Adeyemi", 12800, 7, 18,
     "the cruise terminal now buys its water under a metered contract for the first time",
     "a separate supply line for the harbour so that ships no longer draw on homes' pressure"),
    ("Southbank", "Ruben Alvarez", 22700, 15, 17,
     "a sinkhole on Canal Street in October exposed a leaking main that had gone unnoticed",
     "a survey of every main laid before 1960, starting with Canal Street"),
]

DISTRICT_TEMPLATES = [
    "In {name}, which serves {homes:,} homes, district manager {manager} and the local crews "
    "replaced "
    "{km} kilometres of old main, and leakage in the district fell by {cut} percent. The year's "
    "most talked-about moment came when {story}. Next year the district's main project is "
    "{plan}.",
    "{name} is home to {homes:,} customer households. Under {manager}, the district replaced "
    "{km} kilometres of pipe during the year and cut its own leakage by {cut} percent, a result "
    "that fed directly into the authority's overall figure. Residents will remember 2026 as the "
    "year {story}. The main item on the district's list for 2027 is {plan}.",
    "The {name} district ({homes:,} homes) is led by {manager}. Crews there laid {km} "
    "kilometres of new main and brought leakage down by {cut} percent. Not everything went to "
    "plan: {story}. Looking ahead, {manager}'s first priority for 2027 is {plan}.",
]

LONG_INTRO = [
    "Harbor Valley Water Authority: Annual Report 2026",
    "A letter from the chief executive",
    "Dear customers, partners and colleagues. The year 2026 will be remembered for two things. "
    "First, the Harbor Valley Water Authority reduced the water lost from leaking pipes by 18 "
    "percent, the largest improvement in the forty-year history of the authority. Second, "
    "construction of the new treatment plant at Brindle Creek is nearly finished, and the plant "
    "will open in March 2027. When it does, it will supply clean drinking water to 140,000 homes "
    "and let us retire the old Alder Road works, which first opened in 1962.",
    "Neither result came easily. The 18 percent cut in leakage is the work of hundreds of crew "
    "members who dug up streets in the rain, of engineers who listened to pipes at night, and of "
    "customers who reported wet patches on pavements and in their gardens. The Brindle Creek "
    "plant is the largest building project the valley has seen in a generation, and it is on "
    "time and within its budget of 96 million dollars. I want to thank everyone involved. "
    "Margaret Ellison, Chief Executive.",
    "The year at a glance",
    "The authority supplied an average of 212 million litres of water a day to 208,300 homes and "
    "4,900 businesses. Leakage fell by 18 percent compared with 2025. Crews replaced 118 "
    "kilometres of old main. Customer complaints fell by a quarter. The Brindle Creek treatment "
    "plant passed its final structural inspection in November and will open in March 2027. "
    "Water prices rose by 4 percent, the smallest increase in six years.",
    "How we cut leakage by 18 percent",
    "At the start of the year about one litre in five that left our treatment works never "
    "reached a tap. Most of it escaped through small cracks in mains laid in the 1950s and 1960s, "
    "and through joints that had loosened as the ground shifted. We attacked the problem in three "
    "ways. We divided the network into 240 small zones, each with a meter at its entrance, so "
    "that a rise in night-time flow points to a leak in one zone rather than somewhere in the "
    "valley. We bought forty acoustic listening devices that hear the hiss of escaping water "
    "through the pavement. And we replaced the worst mains outright instead of patching them "
    "again. Together these measures cut leakage by 18 percent, saving about 9 million litres a "
    "day, enough to supply a town of 30,000 people.",
    "Reports from the districts",
    "The authority manages its network through twelve districts, each with its own manager and "
    "repair crews. Every district contributed to the fall in leakage, although the size of the "
    "improvement varied with the age of the pipes and the ground they are laid in.",
]

LONG_OUTRO = [
    "The Brindle Creek treatment plant",
    "Work on the Brindle Creek plant began in the autumn of 2024 on the site of a former paper "
    "mill on the east bank of the creek. The plant draws water from the creek and from a new "
    "well field two kilometres upstream, filters it through sand and activated carbon, and "
    "disinfects it with ultraviolet light before a small dose of chlorine protects it on its way "
    "through the pipes. It can treat 90 million litres a day, and its solar roof will cover "
    "about a third of its electricity. The main contractor, Keller and Stone, handed over the "
    "filter halls in September, and the control building followed in November. Testing with "
    "real water starts in January, and the plant will open to customers in March 2027.",
    "Once Brindle Creek is running, the Alder Road works will be taken out of service in stages "
    "over the following year. The Alder Road site will be cleared, and the county has proposed "
    "turning part of it into a public park with a small museum about the history of the valley's "
    "water supply.",
    "Repairs and emergencies",
    "Our crews attended 3,940 reported leaks and bursts during the year, 17 percent fewer than "
    "in 2025. The average repair took five hours and forty minutes from the first call to water "
    "flowing again, half an hour faster than the year before. The worst single event was the "
    "flood of 3 November, when the river rose over its banks at Riverside and cut power to two "
    "pumping stations for most of a day; mobile generators kept water in the pipes, and no "
    "customer lost supply for more than three hours. We keep a stock of spare pipes, valves and "
    "pumps at the central depot in Millbrook, and after the flood we added four more mobile "
    "generators and a second emergency water tanker, which can bring drinking water to a "
    "hospital or a care home within two hours of a call.",
    "Farms and the upper valley",
    "About 600 farms draw water from the authority, most of them in the upper valley above "
    "Greywater Lake. Farmers used 14 percent less water than in 2025, partly because of the "
    "dry summer warnings and partly because 85 farms switched to drip irrigation with help "
    "from a state grant that the authority administers. We worked with the Upper Valley "
    "Farmers' Association on a plan to keep fertiliser out of the streams that feed the lake, "
    "paying for fences and grass strips along 22 kilometres of stream banks. The association's "
    "chair, Henrik Dahl, has called it the most useful thing the authority has done for farmers "
    "in twenty years, and we intend to double the length of protected banks by 2028.",
    "Water quality",
    "Our laboratory at Fenwick Street tested 31,600 samples during the year, from treatment "
    "works, reservoirs, and customers' taps. 99.96 percent met every national standard. The few "
    "samples that failed were traced to old pipes inside private buildings or to the brown water "
    "in Westmere described above, and each was followed up within a day. The laboratory also "
    "began testing for a wider range of agricultural chemicals at the request of farmers in the "
    "upper valley.",
    "Money",
    "The authority's income was 184 million dollars, of which 171 million came from customers' "
    "bills and the rest from connection fees and a state grant for the Brindle Creek plant. "
    "Spending on operations was 103 million dollars, and 68 million dollars went into new pipes, "
    "pumps and the treatment plant. Our debt rose to 240 million dollars because of the plant, "
    "but the cost of interest remains below 7 percent of income. Water prices went up by 4 "
    "percent in April; a typical household now pays 41 dollars a month.",
    "People",
    "At the end of the year the authority employed 1,130 people. We took on 48 apprentices, the "
    "largest group ever, and 19 of last year's apprentices are now qualified pipe fitters. "
    "Lost-time injuries fell from 14 to 9. In June we opened a training yard behind the Oakhurst "
    "depot where new crew members practise repairs on real pipes buried in real soil before they "
    "work on the street.",
    "Customers",
    "Complaints fell by a quarter, to 2,870 for the year, mostly because fewer bursts meant fewer "
    "interruptions. The average time to answer a phone call dropped from four minutes to under "
    "two. More than 61,000 households now receive their bills by email. We also introduced a "
    "support scheme that spreads the bill over twelve months for families who find it hard to "
    "pay, and 2,300 households joined it in its first six months.",
    "Dry summers and the years ahead",
    "July and August were the driest in the valley since records began, and the main reservoirs "
    "fell to 58 percent of capacity at the start of September. We asked customers to avoid "
    "watering lawns during the day, and demand fell by 8 percent within a week, which meant that "
    "no hosepipe ban was needed. The climate models we use suggest that such summers will become "
    "more common, which is one more reason why every litre saved from leaking pipes matters.",
    "Reservoirs",
    "The authority owns five reservoirs. The largest, Greywater Lake, holds 41 billion litres "
    "and supplies more than half of the valley. Its dam, built in 1958, was inspected by "
    "independent engineers in May and found to be in good condition, although the spillway "
    "gates will need new seals within three years. At Kestrel Pond, the smallest reservoir, a "
    "bloom of blue-green algae in August forced us to switch its customers to Greywater Lake "
    "for nineteen days. We have since installed floating sensors that warn of algae a week "
    "before it becomes visible, and we are testing a barley straw treatment that farmers in "
    "the upper valley have used on their own ponds for decades.",
    "Energy and the environment",
    "Pumping and treating water is the authority's largest use of electricity, about 61 "
    "gigawatt hours a year. Less leakage means less water to pump, and the 18 percent cut in "
    "leakage saved roughly 4 gigawatt hours, about as much as 900 homes use in a year. Solar "
    "panels on the roofs of three depots produced another 2.3 gigawatt hours, and the solar "
    "roof of the Brindle Creek plant will add more once it opens. We planted 6,500 native trees "
    "along the banks of Greywater Lake to hold the soil and shade the water, and volunteers "
    "from the Harbor Valley Birding Club counted 112 species of birds on our land during their "
    "spring survey, eight more than last year.",
    "Working with the community",
    "Our education team visited 64 schools and welcomed 3,400 pupils to the Alder Road works "
    "for tours, probably the last tours before the works close. The annual open day at "
    "Greywater Lake drew 5,200 visitors despite heavy rain in the morning. In September we "
    "began publishing a map of every planned road dig on our website, so that residents and "
    "shop owners know weeks ahead when their street will be closed. Local businesses told us "
    "that the map helped them plan deliveries, and the council now uses it to coordinate its "
    "own road repairs with ours, which means a street is dug up once instead of twice.",
    "Research and new tools",
    "Together with the engineering faculty of Harbor Valley University, we are testing a "
    "computer model that predicts which mains are most likely to burst, based on their age, "
    "material, soil, traffic above them and past repairs. In its first year the model flagged "
    "38 sections of pipe as high risk; 11 of them failed or were found leaking within six "
    "months, far more than chance would suggest. We now use the model to decide which mains to "
    "replace first. A second project, led by research engineer Dr. Samuel Whitcombe, uses "
    "drones with thermal cameras to spot leaks in rural areas, where the ground above a leaking "
    "pipe stays cooler on summer evenings. Early flights over the Pinecrest district found four "
    "leaks that our ground crews had missed.",
    "The board",
    "The authority is overseen by a board of nine members, five elected by the towns of the "
    "valley and four appointed by the state. The board met eleven times during the year. It "
    "approved the 4 percent price rise in March after two public hearings, agreed the final "
    "budget for the Brindle Creek treatment plant, and adopted a new policy that requires every "
    "large project to publish its costs each quarter. Board chair Eleanor Vasquez retires in "
    "2027 after twelve years of service; the towns will elect her successor in February.",
    "Looking ahead to 2027",
    "Next year has two priorities. The first is to open the Brindle Creek treatment plant in "
    "March 2027 and bring its 140,000 homes onto the new supply without interruption. The second "
    "is to build on this year's 18 percent cut in leakage, with a target of a further 10 percent "
    "by the end of 2027. We will also finish the smart meter trial in Eastfield, start the survey "
    "of old mains in Southbank, and begin planning the park at Alder Road.",
    "In short: in 2026 leakage fell by 18 percent, and in March 2027 the Brindle Creek treatment "
    "plant opens. Thank you for reading, and for the care with which so many of you use the "
    "valley's water.",
]


def long_report() -> str:
    """About 3,000 words of plain report prose with different facts in every paragraph; the two
    facts a summary must keep (18 percent less leakage, Brindle Creek opening in March 2027) come
    first and recur, as they would in a real annual report."""
    districts = []
    for i, (name, manager, homes, km, cut, story, plan) in enumerate(DISTRICTS):
        template = DISTRICT_TEMPLATES[i % len(DISTRICT_TEMPLATES)]
        districts.append(template.format(name=name, manager=manager, homes=homes, km=km,
                                         cut=cut, story=story, plan=plan))
    return "\n\n".join(LONG_INTRO + districts + LONG_OUTRO) + "\n"


def make_image_fixtures(folder: Path) -> None:
    """Photos from scikit-image's bundled data (no download) and a drawn sign for OCR."""
    from PIL import Image, ImageDraw, ImageFont
    from skimage import data

    Image.fromarray(data.astronaut()).save(folder / "astronaut.png")
    Image.fromarray(data.chelsea()).save(folder / "cat.jpg", quality=92)
    Image.fromarray(data.camera()).save(folder / "camera.png")  # a man with a camera
    sign = Image.new("RGB", (640, 240), "white")
    draw = ImageDraw.Draw(sign)
    draw.rectangle((10, 10, 629, 229), outline="black", width=4)
    draw.text((40, 70), "Back at 3 pm", fill="black", font=ImageFont.load_default(size=72))
    sign.save(folder / "sign.png")


TEXT_FIXTURES: dict[str, Callable[[], str]] = {
    "notes.txt": lambda: NOTES,
    "long.txt": long_report,
    "library.txt": lambda: LIBRARY,
}
IMAGE_FIXTURES = ("astronaut.png", "cat.jpg", "camera.png", "sign.png")
FIXTURES = (*TEXT_FIXTURES, *IMAGE_FIXTURES)


def make_fixtures(folder: Path) -> dict[str, Path]:
    for name, text in TEXT_FIXTURES.items():
        (folder / name).write_text(text(), encoding="utf-8")
    make_image_fixtures(folder)
    return {name: folder / name for name in FIXTURES}


# -- the dev set

@dataclass
class Item:
    id: str
    kind: str
    request: str
    files: list[str] = field(default_factory=list)
    must: list[str] = field(default_factory=list)
    must_not: list[str] = field(default_factory=list)
    follow_up_of: str | None = None

    def check(self, summary: str) -> list[str]:
        """The checks the summary fails, each as a readable line (empty: it passes)."""
        failed = [f"must /{p}/ did not match" for p in self.must
                  if not re.search(p, summary, re.IGNORECASE)]
        # a file's own name ("astronaut.png") is no claim about its content
        claims = re.sub(r"[\w.-]+\.(?:png|jpe?g|wav|txt|md)\b", " ", summary)
        for pattern in self.must_not:
            hit = re.search(pattern, claims, re.IGNORECASE)
            if hit:
                failed.append(f"must_not /{pattern}/ matched {hit.group(0)!r}")
        return failed


def read_items(path: Path) -> list[Item]:
    """Load and check the dev set up front: a bad regex, a duplicate id, an unknown fixture or a
    follow-up of a later item is a mistake in the data, better reported before minutes of runs."""
    items: list[Item] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        raw = json.loads(line)
        unknown = set(raw) - {f.name for f in fields(Item)}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        item = Item(**raw)
        if item.id in seen:
            raise ValueError(f"{where}: duplicate id {item.id!r}")
        if item.follow_up_of is not None and item.follow_up_of not in seen:
            raise ValueError(f"{where}: follow_up_of {item.follow_up_of!r} is not an earlier id")
        for name in item.files:
            if name not in FIXTURES:
                raise ValueError(f"{where}: unknown fixture {name!r} (known: {FIXTURES})")
        for pattern in item.must + item.must_not:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{where}: bad regex {pattern!r}: {exc}") from None
        seen.add(item.id)
        items.append(item)
    return items


def select(items: list[Item], only: list[str] | None, limit: int | None
           ) -> tuple[list[Item], set[str]]:
    """The items to score, plus the ids of the earlier turns their follow-ups need, which run
    first but are not scored (so ``--only follow-up`` still has conversations to continue)."""
    chosen = [i for i in items if not only or i.kind in only][:limit]
    by_id = {i.id: i for i in items}
    needed = {i.id for i in chosen}
    for item in chosen:
        parent = item.follow_up_of
        while parent and parent not in needed:
            needed.add(parent)
            parent = by_id[parent].follow_up_of
    scored = {i.id for i in chosen}
    return [i for i in items if i.id in needed], scored


# -- running

def summary_of(result: dict[str, Any]) -> str:
    """The prose the user reads: ``summary`` where the responder returns it; an older checkout
    returns only ``answer``, whose prose ends where the results section begins."""
    if result.get("summary") is not None:
        return str(result["summary"])
    return str(result.get("answer", "")).split("\n\nResults:")[0]


def build_assistant(data_dir: Path, roles: dict[str, str | None]):
    """An Assistant on a fresh data folder; role flags set only where this checkout's Settings
    has the field (an older one has ``controller`` alone)."""
    from core import Assistant
    from core.config import Settings

    settings = Settings.load(data_dir=data_dir)
    known = {f.name for f in fields(Settings)}
    for role, value in roles.items():
        if not value:
            continue
        if role not in known:
            print(f"warning: this checkout's Settings has no {role!r}; --{role} ignored",
                  file=sys.stderr)
            continue
        setattr(settings, role, value)
    return Assistant(settings)


def role_ids(assistant) -> dict[str, str]:
    """The controller models that answered, whichever API this checkout has."""
    ids = {}
    for role in ("planner", "writer"):
        getter = getattr(assistant, f"{role}_record", None)
        if getter:
            try:
                ids[role] = getter().id
            except Exception as exc:  # reported, not fatal
                ids[role] = f"error: {exc}"
    if not ids and hasattr(assistant, "controller_record"):
        try:
            ids["controller"] = assistant.controller_record().id
        except Exception as exc:  # reported, not fatal
            ids["controller"] = f"error: {exc}"
    return ids


def warm_up(assistant) -> float:
    """Load the LLMs before the first item, so its seconds are not the load time."""
    clock = time.perf_counter()
    if hasattr(assistant, "warm_up"):
        assistant.warm_up()
    else:
        _ = assistant.controller
    return round(time.perf_counter() - clock, 3)


def run_item(assistant, item: Item, paths: dict[str, Path],
             conversations: dict[str, str | None]) -> dict[str, Any]:
    """Ask one request and judge it; an exception is this item's failure, not the script's."""
    row: dict[str, Any] = {"id": item.id, "kind": item.kind, "request": item.request,
                           "files": item.files, "follow_up_of": item.follow_up_of}
    seen_conversation: list[str] = []

    def on_event(event: Event) -> None:
        if event.kind == EventKind.RUN and event.data.get("conversation_id"):
            seen_conversation.append(event.data["conversation_id"])

    conversation = None
    if item.follow_up_of:
        conversation = conversations.get(item.follow_up_of)
        if conversation is None:
            conversations[item.id] = None
            row.update({"summary": "", "plan": [], "passed": False, "seconds": 0.0,
                        "failed": [f"the earlier turn {item.follow_up_of!r} left no "
                                   "conversation to continue"]})
            return row
    clock = time.perf_counter()
    try:
        result = assistant.ask(item.request, files=[paths[f] for f in item.files],
                               conversation_id=conversation, on_event=on_event).to_json()
    except Exception as exc:  # any error fails this item only
        row.update({"seconds": round(time.perf_counter() - clock, 3), "summary": "",
                    "plan": [], "passed": False, "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=-4),
                    "failed": [f"raised {type(exc).__name__}: {exc}"]})
        conversations[item.id] = seen_conversation[0] if seen_conversation else None
        return row
    seconds = round(time.perf_counter() - clock, 3)
    conversations[item.id] = result.get("conversation_id") or (
        seen_conversation[0] if seen_conversation else None)
    summary = summary_of(result)
    failed = item.check(summary)
    if result.get("status", "done") != "done":
        failed.insert(0, f"status {result.get('status')!r}")
    row.update({
        "summary": summary, "plan": [n.get("task") for n in result.get("plan", [])],
        "passed": not failed, "failed": failed, "seconds": seconds,
        "timings": result.get("timings", {}),
        "task_status": [t.get("status") for t in result.get("tasks", [])],
        "models": [c.get("model") for c in result.get("choices", [])],
        "conversation_id": conversations[item.id],
    })
    if "written_by" in result:
        row["written_by"] = result["written_by"]
    return row


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    passed = sum(r["passed"] for r in rows)
    seconds = [r["seconds"] for r in rows]
    return {"items": len(rows), "passed": passed,
            "pass_rate": round(passed / len(rows), 4) if rows else 0.0,
            "median_seconds": round(statistics.median(seconds), 3) if seconds else 0.0}


def print_report(title: str, rows: list[dict[str, Any]], by_kind: dict[str, dict[str, Any]],
                 overall: dict[str, Any]) -> None:
    print(f"\n{title}")
    print(f"{'kind':22} {'items':>5} {'passed':>6} {'rate':>7} {'median s':>8}")
    for kind, t in [*by_kind.items(), ("overall", overall)]:
        if kind == "overall":
            print("-" * 52)
        print(f"{kind:22} {t['items']:5d} {t['passed']:6d} {t['pass_rate']:7.1%} "
              f"{t['median_seconds']:8.2f}")
    failures = [r for r in rows if not r["passed"]]
    if failures:
        print(f"\nfailures ({len(failures)})")
    for r in failures:
        print(f"\n- {r['id']} [{r['kind']}] {r['request']!r}")
        print(f"  plan: {r.get('plan')}  ({r['seconds']:.1f} s)")
        for check in r["failed"]:
            print(f"  failed: {check}")
        print(f"  summary: {r['summary'][:400]!r}")


def git_state(folder: Path) -> dict[str, Any]:
    """Which code was measured: the commit, and whether the work tree had edits on top."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True,
                                  timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def output_path(folder: Path, label: str) -> Path:
    """``answers-<date>-<label>.json``; a second run that day gets ``-2``, ``-3``... rather than
    overwriting a result that took minutes to make."""
    stem = f"answers-{_dt.date.today().isoformat()}" + (f"-{label}" if label else "")
    path, counter = folder / f"{stem}.json", 1
    while path.exists():
        counter += 1
        path = folder / f"{stem}-{counter}.json"
    return path


def comparison_table(paths: list[Path]) -> str:
    """Saved results side by side, per kind: passed / scored items (the README's table)."""
    results = [json.loads(p.read_text()) for p in paths]
    kinds = list(dict.fromkeys(k for r in results for k in r["totals"]["by_kind"]))
    head = [r["config"].get("label") or p.stem for r, p in zip(results, paths, strict=True)]
    lines = ["| kind | " + " | ".join(head) + " |", "| --- |" + " --- |" * len(head)]

    def cell(block: dict[str, Any] | None) -> str:
        if not block:
            return "not run"
        return f"{block['passed']}/{block['items']} ({100 * block['pass_rate']:.0f}%)"

    for kind in kinds:
        lines.append(f"| {kind} | " + " | ".join(cell(r["totals"]["by_kind"].get(kind))
                                                 for r in results) + " |")
    lines.append("| **overall** | " + " | ".join(f"**{cell(r['totals']['overall'])}**"
                                                 for r in results) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--label", default="", help="a name for this configuration")
    parser.add_argument("--only", nargs="+", metavar="KIND", help="score only these kinds")
    parser.add_argument("--limit", type=int, help="score at most N items (after --only)")
    for role in ROLE_FLAGS:
        parser.add_argument(f"--{role}", help=f"registry id for Settings.{role}")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON result")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary fixtures and data folder (printed) to inspect")
    parser.add_argument("--table", nargs="+", type=Path, metavar="RESULT.json",
                        help="print a Markdown table of saved results side by side, run nothing")
    args = parser.parse_args(argv)
    if args.table:
        print(comparison_table(args.table))
        return 0

    items = read_items(args.data)
    to_run, scored = select(items, args.only, args.limit)
    if not scored:
        print("no items selected", file=sys.stderr)
        return 2
    temp = Path(tempfile.mkdtemp(prefix="conductor-eval-answers-"))
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    setup_rows: list[dict[str, Any]] = []
    interrupted = False
    try:
        (temp / "fixtures").mkdir()
        paths = make_fixtures(temp / "fixtures")
        assistant = build_assistant(temp / "data", {r: getattr(args, r) for r in ROLE_FLAGS})
        try:
            warm_s: float | str = warm_up(assistant)
        except Exception as exc:  # each item will then fail and say why
            warm_s = f"{type(exc).__name__}: {exc}"
        models = role_ids(assistant)
        print(f"warm-up {warm_s} s; models {models}; {len(scored)} items", file=sys.stderr)
        conversations: dict[str, str | None] = {}
        for number, item in enumerate(to_run, 1):
            try:
                row = run_item(assistant, item, paths, conversations)
            except KeyboardInterrupt:
                interrupted = True
                print("interrupted: writing the items done so far", file=sys.stderr)
                break
            (rows if item.id in scored else setup_rows).append(row)
            mark = "ok  " if row["passed"] else "FAIL"
            if item.id not in scored:
                mark = "prep"
            print(f"[{number}/{len(to_run)}] {mark} {row['seconds']:6.1f}s {item.kind:20} "
                  f"{item.id}", file=sys.stderr)
    finally:
        if args.keep:
            print(f"kept {temp}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(temp, ignore_errors=True)
    if not rows:
        return 1
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    by_kind = {k: totals([r for r in rows if r["kind"] == k]) for k in kinds}
    overall = totals(rows)
    label = args.label or "unlabelled"
    print_report(f"{args.data.name} [{label}] with {models}", rows, by_kind, overall)
    report = {
        "config": {"data": str(args.data), "label": args.label, "only": args.only,
                   "limit": args.limit, "items_selected": len(scored),
                   "roles": {r: getattr(args, r) for r in ROLE_FLAGS},
                   "models": models, "code": str(ROOT), **git_state(ROOT),
                   "date": _dt.datetime.now().isoformat(timespec="seconds"),
                   "warm_up_seconds": warm_s,
                   "wall_seconds": round(time.perf_counter() - started, 1),
                   "interrupted": interrupted},
        "totals": {"overall": overall, "by_kind": by_kind},
        "items": rows,
        "setup_items": setup_rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = output_path(args.out, args.label)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
