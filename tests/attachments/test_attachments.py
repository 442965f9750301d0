"""Photos from the gemba (SPEC §5 Attachments): only real JPEG/PNG/WebP, re-encoded without
metadata; abuse answered 4xx with nothing stored; who may see what; orphan cleanup."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import time
import uuid
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from PIL import ExifTags, Image, ImageCms
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app import cli
from app.attachments import service as attachments
from app.models import Attachment, Observation, utcnow
from tests.factories import Actor, Factory
from tests.helpers import assert_problem

URL = "/api/v1/attachments"
MiB = 1024 * 1024


# --- images made here -------------------------------------------------------------------------


def _noise(w: int, h: int, mode: str = "RGB") -> Image.Image:
    """Random pixels: encodes big and is never mistaken for another test's image."""
    bands = len(mode)
    return Image.frombytes(mode, (w, h), os.urandom(w * h * bands))


def jpeg(
    w: int = 400,
    h: int = 200,
    *,
    orientation: int | None = None,
    gps: bool = False,
    flat: bool = False,
) -> bytes:
    im = Image.new("RGB", (w, h), "teal") if flat else _noise(w, h)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "GembaPhone"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        g = exif.get_ifd(ExifTags.IFD.GPSInfo)
        g[ExifTags.GPS.GPSLatitudeRef] = "N"
        g[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 26.0)
        g[ExifTags.GPS.GPSLongitudeRef] = "W"
        g[ExifTags.GPS.GPSLongitude] = (0.0, 7.0, 39.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">SECRET-XMP-LOCATION</x:xmpmeta>'
    im.save(out, "JPEG", quality=90, exif=exif, icc_profile=icc, xmp=xmp)
    return out.getvalue()


def png(w: int = 300, h: int = 200, mode: str = "RGBA", *, extra: bytes = b"") -> bytes:
    out = io.BytesIO()
    _noise(w, h, mode).save(out, "PNG")
    return out.getvalue() + extra


def webp(w: int = 300, h: int = 200) -> bytes:
    out = io.BytesIO()
    _noise(w, h).save(out, "WEBP", quality=80)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(w: int, h: int) -> bytes:
    """A few hundred bytes declaring w×h pixels (1-bit grey)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 4096, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


# --- helpers ----------------------------------------------------------------------------------


def upload(
    actor: Actor,
    data: bytes,
    *,
    name: str = "photo.jpg",
    ctype: str = "image/jpeg",
    id: uuid.UUID | str | None = None,
) -> Any:
    fields = {"id": str(id)} if id is not None else None
    return actor.client.post(URL, files={"file": (name, data, ctype)}, data=fields)


def stored_files(app: FastAPI) -> list[Path]:
    root = app.state.settings.data_dir / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def row_count(db: Session) -> int:
    db.rollback()
    return int(db.scalar(select(func.count()).select_from(Attachment)) or 0)


def assert_nothing_stored(app: FastAPI, db: Session) -> None:
    assert row_count(db) == 0
    assert stored_files(app) == []


def opened(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def assert_clean(data: bytes) -> None:
    im = opened(data)
    assert len(im.getexif()) == 0
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"):
        assert key not in im.info, key
    for marker in (b"Exif\0", b"GembaPhone", b"SECRET-XMP", b"<script", b"sRGB"):
        assert marker not in data, marker


@pytest.fixture
def observer(factory: Factory) -> Actor:
    return factory.bearer("observer")


# --- accepted uploads -------------------------------------------------------------------------


def test_jpeg_with_gps_is_stored_without_metadata_and_upright(
    observer: Actor, app: FastAPI
) -> None:
    original = jpeg(400, 200, orientation=6, gps=True)
    assert b"GembaPhone" in original
    assert len(opened(original).getexif()) > 0
    r = upload(observer, original)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["content_type"] == "image/jpeg"
    # Orientation 6 (rotate 90°): the stored image is upright, so width and height swap.
    assert (body["width"], body["height"]) == (200, 400)
    assert r.headers["etag"] == f'"{body["sha256"]}"'
    assert body["created_at"].endswith("Z")

    got = observer.client.get(f"{URL}/{body['id']}")
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"].startswith("private")
    assert got.headers["content-disposition"] == f'inline; filename="photo-{body["id"]}.jpg"'
    assert len(got.content) == body["size"]
    assert hashlib.sha256(got.content).hexdigest() == body["sha256"]
    assert_clean(got.content)
    assert opened(got.content).size == (200, 400)
    # The file on disk is the one served, under a server-made name.
    files = stored_files(app)
    assert len(files) == 2
    assert all(p.suffix == ".jpg" and "photo" not in p.name for p in files)
    for p in files:
        assert_clean(p.read_bytes())


@pytest.mark.parametrize(
    ("data", "ctype", "ext"),
    [
        (png(300, 200, "RGBA"), "image/png", "png"),
        (png(300, 200, "RGB", extra=b"<html><script>alert(1)</script></html>"), "image/png", "png"),
        (webp(300, 200), "image/webp", "webp"),
    ],
    ids=["png", "png-with-html-trailer", "webp"],
)
def test_png_and_webp_keep_their_format(observer: Actor, data: bytes, ctype: str, ext: str) -> None:
    # Declared name and type lie on purpose: the content decides.
    r = upload(observer, data, name="x.gif", ctype="text/html")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["content_type"], body["width"], body["height"]) == (ctype, 300, 200)
    got = observer.client.get(f"{URL}/{body['id']}")
    assert got.headers["content-type"] == ctype
    assert got.headers["content-disposition"].endswith(f'.{ext}"')
    assert_clean(got.content)
    assert opened(got.content).format == ext.upper().replace("JPG", "JPEG")


def _with_metadata(fmt: str, mode: str = "RGB") -> bytes:
    from PIL import PngImagePlugin

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "GembaPhone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 26.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">SECRET-XMP-LOCATION</x:xmpmeta>'
    out = io.BytesIO()
    im = _noise(64, 48, mode)
    if fmt == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("comment", "GembaPhone <script>alert(1)</script>")
        text.add_itxt("XML:com.adobe.xmp", xmp.decode())
        im.save(out, "PNG", exif=exif, icc_profile=icc, pnginfo=text)
    else:
        im.save(out, fmt, exif=exif, icc_profile=icc, xmp=xmp)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_metadata_is_removed_without_rotation(observer: Actor, fmt: str) -> None:
    data = _with_metadata(fmt)
    assert b"GembaPhone" in data
    body = upload(observer, data).json()
    assert (body["width"], body["height"]) == (64, 48)
    for path in (f"{URL}/{body['id']}", f"{URL}/{body['id']}/thumbnail"):
        assert_clean(observer.client.get(path).content)


def test_png_transparency_survives(observer: Actor) -> None:
    out = io.BytesIO()
    Image.new("P", (40, 30), 0).save(out, "PNG", transparency=0)
    body = upload(observer, out.getvalue(), name="a.png").json()
    stored = opened(observer.client.get(f"{URL}/{body['id']}").content)
    assert stored.convert("RGBA").getpixel((0, 0))[3] == 0


def test_thumbnail_fits_320(observer: Actor) -> None:
    for data in (jpeg(1200, 800), png(500, 1000, "RGB"), webp(321, 100)):
        body = upload(observer, data).json()
        t = observer.client.get(f"{URL}/{body['id']}/thumbnail")
        assert t.status_code == 200
        assert t.headers["content-type"] == body["content_type"]
        im = opened(t.content)
        assert max(im.size) == 320
        assert_clean(t.content)
        assert t.headers["etag"] != f'"{body["sha256"]}"'


def test_big_images_are_capped_at_4096(observer: Actor) -> None:
    body = upload(observer, jpeg(6000, 3000, flat=True)).json()
    assert (body["width"], body["height"]) == (4096, 2048)
    wide = io.BytesIO()
    Image.new("RGB", (5000, 1000), "red").save(wide, "PNG")
    body = upload(observer, wide.getvalue()).json()
    assert (body["width"], body["height"]) == (4096, 819)


def test_etag_and_304(observer: Actor) -> None:
    body = upload(observer, png()).json()
    tag = f'"{body["sha256"]}"'
    r = observer.client.get(f"{URL}/{body['id']}", headers={"If-None-Match": tag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == tag
    r = observer.client.get(f"{URL}/{body['id']}", headers={"If-None-Match": '"other"'})
    assert r.status_code == 200
    meta = observer.client.get(f"{URL}/{body['id']}/metadata")
    assert meta.status_code == 200
    assert meta.json() == body


# --- idempotent create ------------------------------------------------------------------------


def test_replay_is_200_and_conflicts_are_409(
    factory: Factory, observer: Actor, app: FastAPI, db: Session
) -> None:
    aid = uuid.uuid4()
    data = jpeg()
    first = upload(observer, data, id=aid)
    assert first.status_code == 201, first.text
    assert first.json()["id"] == str(aid)
    again = upload(observer, data, id=aid)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert_problem(upload(observer, jpeg(), id=aid), 409)
    assert_problem(upload(factory.bearer("observer"), data, id=aid), 409)
    assert row_count(db) == 1
    assert len(stored_files(app)) == 2


def test_bad_form_fields_are_422(observer: Actor, app: FastAPI, db: Session) -> None:
    assert_problem(upload(observer, png(), id="not-a-uuid"), 422, "id")
    r = observer.client.post(URL, data={"file": "just text"})
    assert r.status_code in (415, 422)
    r = observer.client.post(URL, files={"photo": ("a.png", png(), "image/png")})
    assert_problem(r, 422, "file")
    assert_nothing_stored(app, db)


# --- refused uploads: 4xx, nothing stored, never 5xx -----------------------------------------


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    return out.getvalue()


POLYGLOT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
    b"<foreignObject><html><body><img src=x onerror=alert(3)></body></html></foreignObject></svg>"
)


@pytest.mark.parametrize(
    ("data", "name", "ctype"),
    [
        (b"just some notes, renamed\n" * 20, "photo.jpg", "image/jpeg"),
        (POLYGLOT, "photo.png", "image/png"),
        (b"\x89PNG\r\n\x1a\n" + POLYGLOT, "photo.png", "image/png"),
        (jpeg(800, 600)[:4000], "photo.jpg", "image/jpeg"),
        (png(200, 200)[:-300], "photo.png", "image/png"),
        (_gif(), "photo.gif", "image/gif"),
        (b"", "empty.jpg", "image/jpeg"),
    ],
    ids=[
        "text",
        "svg-html",
        "png-magic-then-svg",
        "truncated-jpeg",
        "truncated-png",
        "gif",
        "empty",
    ],
)
def test_not_an_image_is_415(
    observer: Actor, app: FastAPI, db: Session, data: bytes, name: str, ctype: str
) -> None:
    assert_problem(upload(observer, data, name=name, ctype=ctype), 415)
    assert_nothing_stored(app, db)


def test_eleven_mib_is_413(observer: Actor, app: FastAPI, db: Session) -> None:
    big = jpeg(64, 64) + b"\0" * (11 * MiB)
    assert_problem(upload(observer, big), 413)
    assert_nothing_stored(app, db)


def test_eleven_mib_streamed_without_length_is_413(
    observer: Actor, app: FastAPI, db: Session
) -> None:
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield head
        for _ in range(11 * 16):
            sent += 64 * 1024
            yield b"\xff" * (64 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    r = observer.client.post(
        URL, content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert_problem(r, 413)
    assert_nothing_stored(app, db)


def test_file_over_limit_inside_the_framing_allowance_is_413(make_app: Any, db: Session) -> None:
    app = make_app(max_upload_bytes=100_000)
    actor = Factory(app).bearer("observer")
    data = png(200, 200, "RGB")
    assert 100_000 < len(data) < 160_000
    assert_problem(upload(actor, data), 413)
    assert stored_files(app) == []


@pytest.mark.parametrize(("w", "h"), [(50_000, 50_000), (7_000, 7_000), (1, 40_000_001)])
def test_pixel_bomb_is_413_fast(observer: Actor, app: FastAPI, db: Session, w: int, h: int) -> None:
    data = png_bomb(w, h)
    assert len(data) < 1000
    assert_problem(upload(observer, b"warm-up"), 415)  # the first request imports and connects
    started = time.perf_counter()
    r = upload(observer, data, name="tiny.png", ctype="image/png")
    # Decoding 50,000² would take minutes and gigabytes; the header check takes microseconds
    # (the bound is loose for loaded CI machines).
    assert time.perf_counter() - started < 30.0
    assert_problem(r, 413)
    assert_nothing_stored(app, db)


def test_many_multipart_parts_are_refused(observer: Actor, app: FastAPI, db: Session) -> None:
    boundary = "manyparts"
    image = png(20, 20)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        f"Content-Type: image/png\r\n\r\n".encode()
        + image
        + b"\r\n"
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n'.encode()
        for i in range(1000)
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    started = time.perf_counter()
    r = observer.client.post(
        URL, content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert time.perf_counter() - started < 30.0
    assert 400 <= r.status_code < 500
    assert_problem(r, r.status_code)
    # 1,001 files are refused the same way.
    files = [("file", (f"{i}.png", image, "image/png")) for i in range(1001)]
    r = observer.client.post(URL, files=files)
    assert_problem(r, 400)
    assert_nothing_stored(app, db)


def test_wrong_body_type_and_no_auth(
    observer: Actor, client: Any, app: FastAPI, db: Session
) -> None:
    assert_problem(observer.client.post(URL, json={"file": "x"}), 415)
    r = client.post(URL, files={"file": ("a.png", png(), "image/png")})
    assert_problem(r, 401)
    reader = Factory(app).bearer("observer", scope="read")
    assert_problem(upload(reader, png()), 403)
    assert_nothing_stored(app, db)


def test_browser_upload_needs_csrf(factory: Factory, app: FastAPI, db: Session) -> None:
    browser = factory.browser("observer")
    r = upload(browser, png(), name="a.png")
    assert r.status_code == 201, r.text
    del browser.client.headers["X-CSRF-Token"]
    assert_problem(upload(browser, png(), name="a.png"), 403)
    assert row_count(db) == 1


# --- who may see ------------------------------------------------------------------------------


def _observation(db: Session, journey_id: str, observer: Actor) -> Observation:
    obs = Observation(
        journey_id=uuid.UUID(journey_id),
        observer_id=observer.user.id,
        observed_at=utcnow(),
        note="queue out of the door",
    )
    db.add(obs)
    db.commit()
    return obs


def link(db: Session, observer: Actor, journey_id: str, attachment_id: str) -> Observation:
    obs = _observation(db, journey_id, observer)
    attachments.claim(
        db, user=observer.user, observation_id=obs.id, attachment_ids=[uuid.UUID(attachment_id)]
    )
    db.commit()
    return obs


def test_visibility(factory: Factory, observer: Actor, db: Session) -> None:
    manager, admin, other = factory.bearer("manager"), factory.bearer("admin"), factory.bearer()
    aid = upload(observer, jpeg()).json()["id"]
    paths = [f"{URL}/{aid}", f"{URL}/{aid}/thumbnail", f"{URL}/{aid}/metadata"]
    for path in paths:
        assert observer.client.get(path).status_code == 200
        assert manager.client.get(path).status_code == 200
        assert admin.client.get(path).status_code == 200
        assert_problem(other.client.get(path), 404)
    assert_problem(observer.client.get(f"{URL}/{uuid.uuid4()}"), 404)
    assert_problem(observer.client.get(f"{URL}/not-a-uuid"), 422)

    journey = factory.journey(manager)
    obs = link(db, observer, journey["id"], aid)
    assert attachments.ids_for(db, [obs.id]) == {obs.id: [uuid.UUID(aid)]}
    assert manager.client.get(paths[0]).status_code == 200

    obs.deleted_at = utcnow()
    db.add(obs)
    db.commit()
    for path in paths:
        assert_problem(manager.client.get(path), 404)
        assert_problem(observer.client.get(path), 404)
        assert_problem(other.client.get(path), 404)
        assert admin.client.get(path).status_code == 200


def test_claim_rules(factory: Factory, observer: Actor, db: Session) -> None:
    from app.core.errors import Invalid

    manager, other = factory.bearer("manager"), factory.bearer()
    journey = factory.journey(manager)
    mine = uuid.UUID(upload(observer, png()).json()["id"])
    theirs = uuid.UUID(upload(other, png()).json()["id"])
    obs = _observation(db, journey["id"], observer)
    with pytest.raises(Invalid) as exc:
        attachments.claim(
            db, user=observer.user, observation_id=obs.id, attachment_ids=[mine, theirs]
        )
    assert exc.value.errors == [
        {"field": "attachment_ids.1", "message": "no such attachment of yours"}
    ]
    db.rollback()
    attachments.claim(db, user=observer.user, observation_id=obs.id, attachment_ids=[mine])
    attachments.claim(db, user=observer.user, observation_id=obs.id, attachment_ids=[mine])
    db.commit()
    second = _observation(db, journey["id"], observer)
    with pytest.raises(Invalid):
        attachments.claim(db, user=observer.user, observation_id=second.id, attachment_ids=[mine])
    db.rollback()
    attachments.claim(db, user=observer.user, observation_id=obs.id, attachment_ids=[])
    db.commit()
    assert attachments.ids_for(db, [obs.id]) == {}


# --- orphans ----------------------------------------------------------------------------------


def _age(db: Session, attachment_id: str, hours: float) -> None:
    db.execute(
        update(Attachment)
        .where(col(Attachment.id) == uuid.UUID(attachment_id))
        .values(created_at=utcnow() - timedelta(hours=hours))
    )
    db.commit()


def test_cleanup_removes_old_orphans_only(
    factory: Factory,
    observer: Actor,
    app: FastAPI,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    manager = factory.bearer("manager")
    old_orphan = upload(observer, png()).json()["id"]
    old_linked = upload(observer, png()).json()["id"]
    recent = upload(observer, png()).json()["id"]
    _age(db, old_orphan, 73)
    _age(db, old_linked, 500)
    link(db, observer, factory.journey(manager)["id"], old_linked)
    assert len(stored_files(app)) == 6

    settings = app.state.settings
    monkeypatch.setenv("GEMBALOG_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GEMBALOG_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("GEMBALOG_SECRET_KEY", "cli-test-secret-key-0123456789")
    assert cli.main(["cleanup"]) == 0
    out = capsys.readouterr().out
    assert old_orphan in out
    assert old_linked not in out
    assert recent not in out
    db.rollback()
    assert db.get(Attachment, uuid.UUID(old_orphan)) is None
    assert len(stored_files(app)) == 4
    assert_problem(observer.client.get(f"{URL}/{old_orphan}"), 404)
    for kept in (old_linked, recent):
        assert observer.client.get(f"{URL}/{kept}").status_code == 200

    # A shorter grace, given on the command line, takes the recent orphan too.
    assert cli.main(["cleanup", "--older-than-hours", "0"]) == 0
    assert recent in capsys.readouterr().out
    assert len(stored_files(app)) == 2
    assert observer.client.get(f"{URL}/{old_linked}").status_code == 200


def test_remove_orphans_respects_the_grace_period(observer: Actor, db: Session) -> None:
    aid = upload(observer, png()).json()["id"]
    _age(db, aid, 71)
    assert attachments.remove_orphans(db, older_than=timedelta(hours=72)) == []
    removed = attachments.remove_orphans(db, older_than=timedelta(hours=70))
    assert [str(r.id) for r in removed] == [aid]
    db.commit()
    assert row_count(db) == 0
