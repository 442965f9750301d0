"""The field app in real headless Chromium: sign in, capture online and offline, survive a
reload and a browser restart, sync exactly once, keep the outbox through an expired session,
and pass axe-core on every screen."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine, text

from tests.e2e.conftest import AXE, CHROMIUM, CHROMIUM_ARGS, PASSWORD, VIEWPORT, Server

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000


def wait_for(predicate: Callable[[], Any], timeout: float = 20, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def new_context(browser: Any, **kw: Any) -> Any:
    ctx = browser.new_context(viewport=VIEWPORT, **kw)
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def sign_in(page: Any, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Capture").wait_for()
    page.get_by_label("Journey").wait_for()  # the catalogue is on the device


def choose(page: Any, journey: str, stage: str) -> None:
    page.get_by_label("Journey").select_option(label=journey)
    page.get_by_role("button", name=stage, exact=True).click()


def capture(
    page: Any,
    *,
    note: str,
    pain_point: str | None = None,
    severity: int = 4,
    new_pain_point: str | None = None,
    photo: Path | None = None,
    stage: str = "Explain",
) -> None:
    choose(page, "Return an item", stage)
    if pain_point:
        page.get_by_label(pain_point).check()
        page.get_by_role("group", name=f"Severity: {pain_point}").get_by_text(str(severity)).click()
    if new_pain_point:
        page.get_by_label("Find or add a pain point").fill(new_pain_point)
        page.get_by_role("button", name=f"Add new pain point “{new_pain_point}”").click()
        page.get_by_role("group", name=f"Severity: {new_pain_point}").wait_for()
    page.get_by_label("What happened").fill(note)
    if photo:
        page.locator("#photo").set_input_files(str(photo))
        page.get_by_role("img", name="Photo 1 to attach").wait_for()
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved on this phone.").wait_for()


def status_text(page: Any) -> str:
    return str(page.get_by_test_id("outbox-status").inner_text())


def observations_by_note(api: Any, notes: set[str]) -> list[dict[str, Any]]:
    r = api.get("/api/v1/observations", params={"limit": 500})
    assert r.status_code == 200, r.text
    return [o for o in r.json()["items"] if o["note"] in notes]


def wait_for_service_worker(page: Any) -> None:
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A large camera-like JPEG with EXIF (camera make and GPS) that must not reach the server."""
    img = Image.new("RGB", (2400, 1800), (200, 80, 40))
    for x in range(0, 2400, 200):
        img.paste((20, 120, 200), (x, 0, x + 100, 1800))
    exif = Image.Exif()
    exif[0x010F] = "GembaCam"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS IFD
    path = tmp_path / "camera.jpg"
    img.save(path, "JPEG", exif=exif.tobytes(), quality=90)
    assert b"GembaCam" in path.read_bytes()
    return path


@pytest.fixture
def observer(live_server: Server) -> Iterator[tuple[str, Any]]:
    email = live_server.new_user("observer")
    api = live_server.api(email)
    yield email, api
    api.close()


def test_sign_in_and_log_an_observation_online(
    live_server: Server, browser: Any, observer: tuple[str, Any], shots: Path
) -> None:
    email, api = observer
    ctx = new_context(browser)
    page = ctx.new_page()
    page.goto(live_server.url)
    page.get_by_role("heading", name="Sign in").wait_for()
    page.screenshot(path=str(shots / "01-sign-in.png"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("wrong password!!")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Email or password is wrong.").wait_for()
    sign_in(page, email)

    choose(page, "Return an item", "Explain")
    # the stage's pain points, most observed first
    titles = page.locator(".pp-title").all_inner_texts()
    assert titles == ["Refund policy unclear", "Asked for the receipt three times"]
    # typo-tolerant type-ahead, on the device
    page.get_by_label("Find or add a pain point").fill("recipt")
    assert page.locator(".pp-title").all_inner_texts() == ["Asked for the receipt three times"]
    page.get_by_label("Find or add a pain point").fill("")
    page.get_by_label("Asked for the receipt three times").check()
    page.get_by_role("group", name="Severity: Asked for the receipt three times").get_by_text(
        "4"
    ).click()
    page.get_by_label("What happened").fill("Online: asked for the receipt again")
    page.get_by_label("Minutes lost").fill("12")
    page.screenshot(path=str(shots / "02-capture-filled.png"), full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved on this phone.").wait_for()

    found = wait_for(
        lambda: observations_by_note(api, {"Online: asked for the receipt again"}),
        what="the observation in the API",
    )
    assert len(found) == 1
    obs = found[0]
    assert obs["customer_minutes_lost"] == 12
    assert obs["pain_points"] == [
        {
            **obs["pain_points"][0],
            "pain_point_id": live_server.world["pain_points"]["Asked for the receipt three times"],
            "severity": 4,
        }
    ]
    wait_for(lambda: "all synced" in status_text(page), what="all synced")
    page.screenshot(path=str(shots / "03-capture-synced.png"))

    # an edit of a sent observation goes out as a PATCH of the same observation
    page.get_by_role("link", name="Mine").click()
    page.get_by_role("button", name="Edit observation").first.click()
    page.get_by_role("heading", name="Edit observation").wait_for()
    page.get_by_label("What happened").fill("Online: edited after sync")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("heading", name="My observations").wait_for()
    wait_for(lambda: "all synced" in status_text(page), what="the edit synced")
    r = api.get(f"/api/v1/observations/{obs['id']}")
    assert r.json()["note"] == "Online: edited after sync"
    assert r.json()["pain_points"][0]["severity"] == 4
    assert observations_by_note(api, {"Online: asked for the receipt again"}) == []
    ctx.close()


def test_offline_capture_survives_reload_and_restart_and_syncs_once(
    live_server: Server,
    playwright_instance: Any,
    observer: tuple[str, Any],
    photo: Path,
    tmp_path: Path,
    shots: Path,
) -> None:
    email, api = observer
    profile = tmp_path / "profile"

    def launch() -> Any:
        ctx = playwright_instance.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        ctx.set_default_timeout(TIMEOUT_MS)
        return ctx

    ctx = launch()
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    page.goto(live_server.url)
    sign_in(page, email)
    wait_for_service_worker(page)
    choose(page, "Return an item", "Explain")  # the catalogue is on the device now

    ctx.set_offline(True)
    new_title = f"Receipt printer out of paper {int(time.time())}"
    notes = [f"Offline {i}: {tag}" for i, tag in enumerate(["photo", "new", "c", "d", "e"], 1)]
    capture(page, note=notes[0], pain_point="Refund policy unclear", photo=photo)
    capture(page, note=notes[1], new_pain_point=new_title, severity=3)
    capture(page, note=notes[2], pain_point="Queue longer than 10 minutes", stage="Queue")
    capture(page, note=notes[3])
    capture(page, note=notes[4], pain_point="Card machine offline", stage="Resolve")
    wait_for(lambda: "5 waiting" in status_text(page), what="5 waiting offline")
    page.screenshot(path=str(shots / "04-offline-5-waiting.png"))

    page.reload()  # the shell comes from the service worker
    page.get_by_role("heading", name="Capture").wait_for()
    wait_for(lambda: "5 waiting" in status_text(page), what="5 waiting after reload")
    assert observations_by_note(api, set(notes)) == []
    ctx.close()

    ctx = launch()  # the same profile: a restarted browser
    ctx.set_offline(True)
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    page.goto(live_server.url)
    page.get_by_role("heading", name="Capture").wait_for()
    # Background Sync may already have sent them from the service worker as the browser
    # started; otherwise they wait for the signal. Either way nothing is lost or doubled.
    wait_for(
        lambda: "5 waiting" in status_text(page) or len(observations_by_note(api, set(notes))) == 5,
        what="5 waiting after restart (or sent by Background Sync)",
    )
    page.get_by_role("link", name="Mine").click()
    page.get_by_role("heading", name="My observations").wait_for()
    page.screenshot(path=str(shots / "05-mine-offline.png"), full_page=True)

    ctx.set_offline(False)
    wait_for(lambda: "all synced" in status_text(page), timeout=40, what="all synced")
    found = observations_by_note(api, set(notes))
    assert sorted(o["note"] for o in found) == sorted(notes)  # exactly those five, once each
    page.screenshot(path=str(shots / "06-mine-synced.png"), full_page=True)

    by_note = {o["note"]: o for o in found}
    with_photo = by_note[notes[0]]
    assert len(with_photo["attachment_ids"]) == 1
    r = api.get(f"/api/v1/attachments/{with_photo['attachment_ids'][0]}")
    assert r.status_code == 200, r.text
    stored = Image.open(io.BytesIO(r.content))
    assert max(stored.size) <= 1600
    assert not stored.getexif()
    assert b"GembaCam" not in r.content
    tags = by_note[notes[1]]["pain_points"]
    assert len(tags) == 1
    pp = api.get(f"/api/v1/pain-points/{tags[0]['pain_point_id']}").json()
    assert pp["title"] == new_title
    ctx.close()


def test_an_expired_session_keeps_the_outbox(
    live_server: Server, browser: Any, observer: tuple[str, Any], shots: Path
) -> None:
    email, _ = observer
    ctx = new_context(browser)
    page = ctx.new_page()
    page.goto(live_server.url)
    sign_in(page, email)

    engine = create_engine(live_server.settings.database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM auth_sessions WHERE user_id = (SELECT id FROM users WHERE email = :e)"
            ),
            {"e": email},
        )
    engine.dispose()

    note = "Queued while the session had expired"
    capture(page, note=note, pain_point="Refund policy unclear")
    page.get_by_role("button", name="Sign in to send").wait_for()
    wait_for(lambda: "1 waiting" in status_text(page), what="1 waiting")
    page.screenshot(path=str(shots / "07-session-expired.png"))
    page.get_by_role("button", name="Sign in to send").click()
    page.get_by_text("will be sent once you sign in").wait_for()
    page.screenshot(path=str(shots / "08-sign-in-again.png"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    wait_for(lambda: "all synced" in status_text(page), what="flushed after sign-in")
    api = live_server.api(email)  # the earlier API session was deleted with the browser's
    assert len(observations_by_note(api, {note})) == 1
    api.close()
    ctx.close()


WIDER_THAN_SCREEN = """() => document.documentElement.scrollWidth <= innerWidth ? [] :
  [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5)
    .map((e) => ({target: e.tagName + '.' + e.className}))"""


def _axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_every_screen_passes_axe_and_is_photographed(
    live_server: Server, browser: Any, observer: tuple[str, Any], shots: Path
) -> None:
    email, _ = observer
    ctx = new_context(browser, bypass_csp=True)  # axe is injected as an inline script
    page = ctx.new_page()
    page.goto(live_server.url)
    page.get_by_role("heading", name="Sign in").wait_for()
    problems: dict[str, list[dict[str, Any]]] = {}

    def check(name: str) -> None:
        page.screenshot(path=str(shots / f"axe-{name}.png"), full_page=True)
        found = _axe(page)
        wide = page.evaluate(WIDER_THAN_SCREEN)
        if wide:
            found.append({"id": "horizontal-scroll", "help": "wider than 360 px", "nodes": wide})
        if found:
            problems[name] = [
                {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
                for v in found
            ]

    check("sign-in")
    sign_in(page, email)
    check("capture-empty")
    choose(page, "Return an item", "Explain")
    page.get_by_label("Refund policy unclear").check()
    page.locator("summary").click()
    check("capture-stage")
    page.get_by_role("link", name="Visit").click()
    page.get_by_role("heading", name="Start a visit").wait_for()
    check("visit-start")
    page.get_by_label("Site").select_option(label="Leeds Briggate store")
    page.get_by_role("button", name="Start visit").click()
    page.get_by_role("button", name="+1 customer").click()
    page.get_by_role("button", name="+1 customer").click()
    page.get_by_text("2", exact=True).wait_for()
    check("visit-active")
    page.get_by_role("link", name="Mine").click()
    page.get_by_role("heading", name="My observations").wait_for()
    check("mine")
    page.get_by_role("link", name="Backlog").click()
    page.get_by_role("table").wait_for()
    check("backlog")
    # keyboard only: the tab order reaches the stage buttons and Save from the journey picker
    page.get_by_role("link", name="Capture").click()
    page.get_by_label("Journey").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Arrive"
    ctx.close()
    assert not problems, json.dumps(problems, indent=1)
