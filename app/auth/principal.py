"""Who is calling: a browser session (cookie + CSRF) or a bearer API token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col
from starlette.requests import Request

from app.core.errors import Forbidden, Unauthorized
from app.core.http import SAFE_METHODS
from app.core.security import csrf_matches, digest
from app.models import ApiToken, AuthSession, TokenScope, User, utcnow

SESSION_COOKIE = "gembalog_session"
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    via: str  # "session" | "token"
    scope: str = TokenScope.write
    session_secret: str | None = None
    token_id: object | None = None

    @property
    def id(self) -> object:
        return self.user.id

    @property
    def is_manager(self) -> bool:
        return self.user.is_manager


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Use 'Authorization: Bearer <token>'.")
    return value.strip()


def same_origin(request: Request) -> bool:
    """A present Origin header must name this service's own origin."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:  # e.g. "http://[" - certainly not ours
        return False
    host = request.headers.get("host", "")
    return f"{parts.scheme}://{parts.netloc}" == f"{request.url.scheme}://{host}"


def authenticate(request: Request, session: Session) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    principal = _authenticate(request, session)
    request.state.principal = principal
    return principal


# Built once: every request runs one of these (building and cache-keying the statement cost
# about as much as running it).
_TOKEN = (
    select(ApiToken, User)
    .join(User, col(User.id) == ApiToken.user_id)
    .where(col(ApiToken.token_hash) == bindparam("token_hash"))
)
_SESSION = (
    select(AuthSession, User)
    .join(User, col(User.id) == AuthSession.user_id)
    .where(col(AuthSession.token_hash) == bindparam("token_hash"))
)


def _authenticate(request: Request, session: Session) -> Principal:
    now = utcnow()
    unsafe = request.method not in SAFE_METHODS
    token = _bearer(request)
    if token is not None:
        row = session.execute(_TOKEN, {"token_hash": digest(token)}).first()
        if row is None:
            raise Unauthorized("The token is not valid.")
        api_token, user = row
        if api_token.revoked_at is not None or (
            api_token.expires_at is not None and api_token.expires_at <= now
        ):
            raise Unauthorized("The token has expired or was revoked.")
        if not user.active:
            raise Unauthorized("The token's owner is deactivated.")
        if unsafe and api_token.scope != TokenScope.write:
            raise Forbidden("This token's scope is read; it allows only GET.")
        if api_token.last_used_at is None or now - api_token.last_used_at > TOKEN_TOUCH_INTERVAL:
            stmt = update(ApiToken).where(col(ApiToken.id) == api_token.id).values(last_used_at=now)
            if unsafe:
                session.execute(stmt)  # already a writer: same transaction
            else:
                # Its own short transaction: a read must not turn into a writer.
                with request.app.state.write_engine.begin() as conn:
                    conn.execute(stmt)
        return Principal(user=user, via="token", scope=api_token.scope, token_id=api_token.id)

    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthorized("Sign in, or send a bearer token.")
    row = session.execute(_SESSION, {"token_hash": digest(secret)}).first()
    if row is None or row[0].expires_at <= now:
        raise Unauthorized("Your session has ended; sign in again.")
    user = row[1]
    if not user.active:
        raise Unauthorized("Your account is deactivated.")
    if unsafe:
        if not same_origin(request):
            raise Forbidden("Cross-origin request refused.")
        if not csrf_matches(
            request.app.state.settings.secret, secret, request.headers.get("x-csrf-token")
        ):
            raise Forbidden("Missing or wrong X-CSRF-Token header.")
    return Principal(user=user, via="session", session_secret=secret)
