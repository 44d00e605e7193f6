"""
One line per finding code: what to change so the browser keeps the cookie,
or why nothing needs to change.
"""

FIXES = {
    "AttributeValueExceedsMaxSize": "Shorten the attribute to 1024 bytes or fewer.",
    "Deletes": "Nothing to fix if you meant to delete it; else give a lifetime in the future.",
    "DisallowedCharacter": "Remove control characters, ';' and (in names) '=' and spaces, "
    "or percent-encode the value.",
    "DollarName": "Rename it: names starting with '$' are refused.",
    "DomainIsAddress": "Drop Domain: an IP address only takes host-only cookies.",
    "DomainIsPublicSuffix": "Drop Domain, or use your own registrable domain, not a public suffix.",
    "DuplicateName": "Use the same Path and Domain to replace the existing cookie, or rename it.",
    "EmptyName": "Give the cookie a name.",
    "ExpiresOutOfRange": "Pick an expiry between 1970 and 9999.",
    "HttpOnly": "Nothing to fix: scripts never set HttpOnly; set it from the server instead.",
    "InvalidDomain": "Drop Domain, or use this host or one of its parent domains.",
    "InvalidPartitioned": "Add Secure (and SameSite=None for cross-site use), or drop Partitioned.",
    "InvalidPrefix": "Meet the prefix's rules (Secure; for __Host-: Path=/ and no Domain; "
    "for __Http-: HttpOnly, from the server), or rename the cookie.",
    "InvalidSameSite": "Use Strict, Lax or None.",
    "LeadingDot": "Nothing to fix: the leading dot is ignored; drop it for clarity.",
    "LifetimeCapped": "Expect at most 400 days: refresh the cookie before then.",
    "NoCookieContent": "Give the cookie a name (and a value).",
    "NameNotToken": "Rename it with letters, digits and !#$%&'*+-.^_`|~ only.",
    "NameValuePairExceedsMaxSize": "Keep name and value under 4096 bytes together.",
    "OverwriteHttpOnly": "Set it from the server, or pick another name.",
    "PathIgnored": "Start Path with '/', or leave it out.",
    "ReservedName": "Pick another name: the site's session, CSRF and visitor cookies are "
    "off limits.",
    "SameSiteNoneInsecure": "Add Secure (SameSite=None needs it), or choose Lax.",
    "SameSiteUnspecified": "Nothing to fix, but say what you mean: add SameSite=Lax (the default "
    "browsers apply) or Strict.",
    "SecureOnLocalhost": "Nothing to fix here; on a real host Secure needs HTTPS.",
    "SecureOnly": "Serve the page over HTTPS, or drop Secure.",
    "ValueQuoted": "Nothing to fix: the quotes are part of the value; drop them if unmeant.",
    "ValueTooLong": "Shorten the value.",
    "ValueTruncated": "Shorten the value to fit 4096 bytes with its name.",
}


def fix_for(code):
    return FIXES.get(code, "")
