from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.attachments import images, service
from app.attachments.schemas import AttachmentPublic
from app.attachments.storage import storage_for
from app.auth.principal import Principal, authenticate
from app.core.config import Settings
from app.core.errors import Invalid, PayloadTooLarge
from app.deps import CurrentUser, SessionDep, SettingsDep
from app.models import Attachment, User

router = APIRouter(prefix="/attachments", tags=["attachments"])

# An immutable image, but who may see it changes (a deleted observation hides it): a private
# cache may keep it an hour and revalidates cheaply with the ETag.
CACHE_CONTROL = "private, max-age=3600"
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
# Field parts are tiny (an id); anything bigger is abuse.
MAX_FIELD_BYTES = 1024

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "title": "AttachmentUpload",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A JPEG, PNG or WebP image.",
                        },
                        "id": {
                            "type": "string",
                            "format": "uuid",
                            "description": "Optional client-chosen id (idempotent create).",
                        },
                    },
                }
            }
        },
    }
}


def _upload_principal(request: Request) -> Principal:
    # Its own short transaction, not SessionDep: on SQLite a request session of a POST holds the
    # write lock, and a slow phone upload must not block every other writer while it streams.
    with Session(request.app.state.write_engine, expire_on_commit=False) as session:
        principal = authenticate(request, session)
        session.commit()
    return principal


UploadPrincipal = Annotated[Principal, Depends(_upload_principal)]


def _store(
    settings: Settings, engine: Any, user: User, attachment_id: uuid.UUID | None, raw: bytes
) -> tuple[Attachment, bool]:
    upload_sha256 = hashlib.sha256(raw).hexdigest()
    if attachment_id is not None:  # a replay answers without decoding again
        with Session(engine.read, expire_on_commit=False) as session:
            existing = service.check_replay(
                session, user=user, attachment_id=attachment_id, upload_sha256=upload_sha256
            )
        if existing is not None:
            return existing, False
    # Decode and encode outside any transaction (CPU-bound; no lock held meanwhile).
    image = images.process(raw, max_pixels=settings.max_upload_pixels)
    storage = storage_for(settings)
    row: Attachment | None = None
    created = False
    try:
        with Session(engine.write, expire_on_commit=False) as session:
            row, created = service.create(
                session,
                storage,
                user=user,
                attachment_id=attachment_id,
                upload_sha256=upload_sha256,
                image=image,
            )
            session.commit()
    except BaseException:
        if row is not None and created:
            service.discard(storage, row)
        raise
    return row, created


class _Engines:
    def __init__(self, request: Request) -> None:
        self.read = request.app.state.engine
        self.write = request.app.state.write_engine


def _parse_id(value: str | UploadFile | None) -> uuid.UUID | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("id", "must be a plain form field")
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise Invalid("id", "must be a UUID") from None


@router.post(
    "",
    operation_id="create_attachment",
    summary="Upload an image (JPEG, PNG or WebP); it is stored re-encoded without metadata",
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses={
        200: {"model": AttachmentPublic, "description": "Replay of an identical upload"},
        400: {"description": "Malformed multipart body, or too many parts", **_PROBLEM},
        409: {"description": "The id is taken by another upload", **_PROBLEM},
        413: {"description": "Over the byte or pixel limit", **_PROBLEM},
        415: {"description": "Not a complete JPEG, PNG or WebP image", **_PROBLEM},
    },
)
async def create_attachment(
    request: Request, principal: UploadPrincipal, settings: SettingsDep, response: Response
) -> AttachmentPublic:
    # At most one file and one field; a field part over 1 KiB, or any other part, is a 400
    # as soon as the parser meets it. The body limit middleware stops the stream past the
    # byte limit; the file part is checked again below.
    async with request.form(max_files=1, max_fields=1, max_part_size=MAX_FIELD_BYTES) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid("file", "send the image as a file part named 'file'")
        attachment_id = _parse_id(form.get("id"))
        if upload.size is not None and upload.size > settings.max_upload_bytes:
            raise PayloadTooLarge(
                f"The file is larger than the limit of {settings.max_upload_bytes} bytes."
            )
        raw = await upload.read(settings.max_upload_bytes + 1)
        if len(raw) > settings.max_upload_bytes:
            raise PayloadTooLarge(
                f"The file is larger than the limit of {settings.max_upload_bytes} bytes."
            )
    row, created = await run_in_threadpool(
        _store, settings, _Engines(request), principal.user, attachment_id, raw
    )
    response.status_code = 201 if created else 200
    response.headers["ETag"] = _etag(row.sha256)
    return AttachmentPublic.model_validate(row)


def _etag(sha256: str, variant: str = "") -> str:
    return f'"{sha256}{variant}"'


def _matches(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match")
    if not given:
        return False
    tags = [t.strip().removeprefix("W/") for t in given.split(",")]
    return "*" in tags or etag in tags


def _image_response(request: Request, att: Attachment, etag: str, name: str, load: Any) -> Response:
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    ext = images.EXTENSIONS.get(att.content_type, "bin")
    headers["Content-Disposition"] = f'inline; filename="{name}-{att.id}.{ext}"'
    return Response(content=load(), media_type=att.content_type, headers=headers)


def _image_responses(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
            "description": description,
        },
        304: {"description": "Not modified (If-None-Match)"},
        404: {"description": "No such attachment, or not yours to see", **_PROBLEM},
    }


@router.get(
    "/{attachment_id}",
    operation_id="get_attachment",
    summary="The stored image",
    response_class=Response,
    responses=_image_responses("The image"),
)
def get_attachment(
    attachment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    settings: SettingsDep,
) -> Response:
    att = service.get_visible(session, principal.user, attachment_id)
    storage = storage_for(settings)
    return _image_response(
        request, att, _etag(att.sha256), "photo", lambda: service.read_image(storage, att)
    )


@router.get(
    "/{attachment_id}/thumbnail",
    operation_id="get_attachment_thumbnail",
    summary="The image scaled to fit 320×320 px",
    response_class=Response,
    responses=_image_responses("The thumbnail"),
)
def get_attachment_thumbnail(
    attachment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    settings: SettingsDep,
) -> Response:
    att = service.get_visible(session, principal.user, attachment_id)
    storage = storage_for(settings)
    return _image_response(
        request,
        att,
        _etag(att.sha256, "-thumb"),
        "thumbnail",
        lambda: service.read_thumbnail(storage, att),
    )


@router.get(
    "/{attachment_id}/metadata",
    operation_id="get_attachment_metadata",
    summary="An attachment's metadata (type, size, dimensions, digest)",
    responses={404: {"description": "No such attachment, or not yours to see", **_PROBLEM}},
)
def get_attachment_metadata(
    attachment_id: uuid.UUID, session: SessionDep, principal: CurrentUser, response: Response
) -> AttachmentPublic:
    att = service.get_visible(session, principal.user, attachment_id)
    response.headers["ETag"] = _etag(att.sha256, "-meta")
    return AttachmentPublic.model_validate(att)
