"""
Browser engines: which one sent a request, and what each does with a finding.

The rules model Chromium. Firefox differs in a few places, each proven by a
test of tests/browser/test_attributes.py in both engines (README, "What the
browsers do"); ENGINE_NOTES says, per finding code, what each tested engine
does with such a cookie. Only what the tests prove is here.
"""

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Engine(StrEnum):
    CHROMIUM = "chromium"
    FIREFOX = "firefox"
    UNKNOWN = ""

    @property
    def label(self):
        return TESTED.get(self, "another browser")


# The builds the browser tests run (Debian's chromium and firefox-esr).
TESTED = {Engine.CHROMIUM: "Chromium 156", Engine.FIREFOX: "Firefox 153 ESR"}

# Every browser on iOS is WebKit, whatever its name: not an engine tested here.
IOS = re.compile(r"\b(iPhone|iPad|iPod|CriOS|FxiOS|EdgiOS)\b")
# Two plain searches, not "Gecko/.*Firefox/": on a hostile User-Agent of many
# "Gecko/" the backtracking took 110 ms (8 KB); these take well under one.
GECKO = re.compile(r"\bGecko/\d+")
FIREFOX = re.compile(r"\bFirefox/\d+")
CHROMIUM = re.compile(r"\b(HeadlessChrome|Chrome|Chromium)/\d+")


def engine_of(user_agent):
    """The engine a User-Agent names: Chromium (Chrome, Edge, Opera...), Firefox, or unknown."""
    if not user_agent or IOS.search(user_agent):
        return Engine.UNKNOWN
    if GECKO.search(user_agent) and FIREFOX.search(user_agent):
        return Engine.FIREFOX
    if CHROMIUM.search(user_agent):
        return Engine.CHROMIUM
    return Engine.UNKNOWN


@dataclass(frozen=True)
class EngineNote:
    """What one browser does with a cookie that has this finding."""

    browser: str  # "Chromium 156", "Firefox 153 ESR", or a browser not tested here
    outcome: str  # "drops", "keeps" or "alters"; "" for compat data (a feature's support)
    detail: str = ""
    tested: bool = True  # False: quoted from MDN's compat data, not proven here

    def as_dict(self):
        return {
            "engine": self.browser,
            "outcome": self.outcome,
            "detail": self.detail,
            "tested": self.tested,
            "text": str(self),
        }

    def __str__(self):
        if not self.tested:
            return f"{self.browser} ({COMPAT['source']}, not tested here): {self.detail}"
        return f"{self.browser}: {self.outcome}" + (f" ({self.detail})" if self.detail else "")


def _both(outcome, detail=""):
    return (
        EngineNote(TESTED[Engine.CHROMIUM], outcome, detail),
        EngineNote(TESTED[Engine.FIREFOX], outcome, detail),
    )


# Finding code -> what each tested engine does. Chromium's own reason is the
# code itself (its DevTools blocked reason); Firefox gives the page none.
ENGINE_NOTES = {
    "InvalidDomain": _both("drops"),
    "SameSiteNoneInsecure": _both("drops"),
    "InvalidPartitioned": _both("drops"),
    "InvalidPrefix": _both("drops"),
    "NameValuePairExceedsMaxSize": _both("drops"),
    "LifetimeCapped": _both("alters", "expiry capped at 400 days"),
    "SameSiteUnspecified": (
        EngineNote(TESTED[Engine.CHROMIUM], "alters", "treated as SameSite=Lax"),
        EngineNote(TESTED[Engine.FIREFOX], "keeps", "with no SameSite, reported as Default"),
    ),
}

# A __Host- cookie whose Domain names the very host that sets it.
HOST_PREFIX_OWN_DOMAIN = (
    EngineNote(TESTED[Engine.CHROMIUM], "drops"),
    EngineNote(TESTED[Engine.FIREFOX], "keeps", "a Domain naming the host itself passes its check"),
)

# Safari, from MDN's browser-compat-data (the Set-Cookie part, vendored with
# its version and licence by scripts/vendor_bcd.py): quoted, never tested here.
COMPAT = json.loads((Path(__file__).with_name("data") / "bcd_set_cookie.json").read_text())
UNTESTED_BROWSERS = {"safari": "Safari"}
# Finding code -> the compat-data features that decide it.
COMPAT_FEATURES = {
    "SameSiteUnspecified": ("SameSite.Lax_default",),
    "SameSiteNoneInsecure": ("SameSite.none_requires_secure",),
    "InvalidPartitioned": ("Partitioned",),
    "InvalidPrefix": ("host_secure_prefixes", "http_host-http_prefixes"),
}


def compat_notes(code):
    """What the compat data says of the features behind ``code``, for each untested browser."""
    notes = []
    for key, browser in UNTESTED_BROWSERS.items():
        for feature in COMPAT_FEATURES.get(code, ()):
            notes.append(EngineNote(browser, "", _support(feature, key), tested=False))
    return tuple(notes)


def _support(feature, browser):
    """'<feature>: since <version>' or '<feature>: not supported', as the compat data has it."""
    node = COMPAT["data"]
    for part in feature.split("."):
        node = node[part]
    compat = node["__compat"]
    name = re.sub(r"<[^>]+>", "", compat.get("description") or feature.split(".")[-1])
    support = compat["support"][browser]
    # The first statement is the current one; later ones are history (removed, flags).
    current = support[0] if isinstance(support, list) else support
    version = current.get("version_added")
    if not version or current.get("version_removed") or current.get("flags"):
        return f"{name}: not supported"
    return f"{name}: since {version}"


def notes_for(code):
    """The tested engines' notes for ``code``, then the compat data's for the others."""
    return ENGINE_NOTES.get(code, ()) + compat_notes(code)
