#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Screenshot pages of a running Odoo, logged in or not, with headless Chromium.

Usage::

    python3 tools/screenshot.py --url http://localhost:8069 --db DB [--login admin --password admin]
        [--width 1400 --height 900] [--wait 4] [--click SELECTOR ...] PATH OUT.png [...]

Each PATH (e.g. ``/odoo/action-payment_request.payment_request_action``) is opened after
logging in through ``/web/session/authenticate`` and saved as a PNG, for a person to look at.
"""

import argparse
import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import requests
import websocket


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Chrome:
    """A headless Chromium driven over the DevTools protocol."""

    def __init__(self, width, height):
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="pr-chrome-")
        binary = shutil.which("chromium") or shutil.which("google-chrome")
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--window-size={width},{height}",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json") as resp:
                    pages = [t for t in json.load(resp) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60)
        self.seq = 0

    def call(self, method, **params):
        self.seq += 1
        self.ws.send(json.dumps({"id": self.seq, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.seq:
                return message.get("result", {})

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--login")
    parser.add_argument("--password")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--wait", type=float, default=4.0, help="seconds to let the page render")
    parser.add_argument("--full-page", action="store_true")
    parser.add_argument(
        "--click",
        action="append",
        default=[],
        help="CSS selector to click after each page loads (repeatable, in order)",
    )
    parser.add_argument("pairs", nargs="+", help="PATH OUT.png pairs")
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("give PATH OUT.png pairs")

    chrome = Chrome(args.width, args.height)
    try:
        chrome.call("Network.enable")
        # Headless windows are at least 500 px wide: the viewport is set to the size asked
        # (a phone's 390 px included), as a phone of that width shows the page.
        chrome.call(
            "Emulation.setDeviceMetricsOverride",
            width=args.width,
            height=args.height,
            deviceScaleFactor=1,
            mobile=args.width < 576,
        )
        if args.login:
            session = requests.Session()
            response = session.post(
                f"{args.url}/web/session/authenticate",
                json={
                    "jsonrpc": "2.0",
                    "params": {"db": args.db, "login": args.login, "password": args.password},
                },
                timeout=60,
            )
            response.raise_for_status()
            chrome.call(
                "Network.setCookie",
                name="session_id",
                value=session.cookies["session_id"],
                url=args.url,
            )
        for path, out in zip(args.pairs[::2], args.pairs[1::2], strict=True):
            chrome.call("Page.navigate", url=f"{args.url}{path}")
            time.sleep(args.wait)
            for selector in args.click:
                chrome.call(
                    "Runtime.evaluate",
                    expression=f"document.querySelector({json.dumps(selector)}).click()",
                )
                time.sleep(args.wait / 2)
            params = {"format": "png"}
            if args.full_page:
                metrics = chrome.call("Page.getLayoutMetrics")["cssContentSize"]
                params["clip"] = {
                    "x": 0,
                    "y": 0,
                    "width": metrics["width"],
                    "height": metrics["height"],
                    "scale": 1,
                }
                params["captureBeyondViewport"] = True
            data = chrome.call("Page.captureScreenshot", **params)["data"]
            with open(out, "wb") as file:
                file.write(base64.b64decode(data))
            print(f"{path} -> {out}")
    finally:
        chrome.close()


if __name__ == "__main__":
    main()
