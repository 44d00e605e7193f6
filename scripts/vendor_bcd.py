"""
Vendor the Set-Cookie part of MDN's browser-compat-data into the rules
(cookies_app/rules/data/bcd_set_cookie.json), with its version and licence:

    npm pack @mdn/browser-compat-data && tar xzf mdn-browser-compat-data-*.tgz
    python scripts/vendor_bcd.py package/

The lab quotes it for the browsers its tests do not run (Safari), and says so.
"""

import argparse
import json
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "cookies_app/rules/data/bcd_set_cookie.json"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", type=Path, help="the unpacked npm package directory")
    package = parser.parse_args().package
    meta = json.loads((package / "package.json").read_text())
    data = json.loads((package / "data.json").read_text())
    licence = (package / "LICENSE").read_text().splitlines()[0].strip()
    subset = {
        "source": f"{meta['name']} {meta['version']}",
        "licence": licence,
        "path": "http.headers.Set-Cookie",
        "data": data["http"]["headers"]["Set-Cookie"],
    }
    TARGET.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n")
    print(f"{TARGET}: {subset['source']} ({licence})")


if __name__ == "__main__":
    main()
