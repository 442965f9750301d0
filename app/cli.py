"""The `gembalog` command: serve, migrate, create-user, demo, import, cleanup."""

from __future__ import annotations

import argparse
import csv
import getpass
import logging
import sys

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings, get_settings
from app.core.db import make_engine, writer
from app.core.migrations import current_revision, head_revision, upgrade
from app.core.security import MAX_PASSWORD, MIN_PASSWORD
from app.models import Role


def _not_at_head(engine: Engine) -> bool:
    """True (with a message saying what to run) when the database is not migrated to head:
    every command that reads or writes data refuses such a database rather than fail halfway."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return False
    msg = f"The database is at revision {current or 'none'}, not {head}."
    print(f"{msg} Run 'gembalog migrate' first.", file=sys.stderr)
    return True


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    engine = make_engine(settings)
    try:
        if _not_at_head(engine):
            return 2
    finally:
        engine.dispose()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        log_level=settings.log_level.lower(),
    )
    return 0


def _migrate(_: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.database_url)
    print(f"database migrated to {head_revision()}")
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != first:
            raise SystemExit("The passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _create_user(args: argparse.Namespace, settings: Settings) -> int:
    from pydantic import ValidationError

    from app.core.errors import AppError
    from app.users.schemas import UserCreate
    from app.users.service import create

    password = _read_password()
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        print(f"The password must be {MIN_PASSWORD}–{MAX_PASSWORD} characters.", file=sys.stderr)
        return 2
    try:
        data = UserCreate(email=args.email, password=password, role=Role(args.role), name=args.name)
    except ValidationError as exc:
        print(f"Invalid: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    engine = make_engine(settings)
    try:
        if _not_at_head(engine):
            return 2
        with Session(writer(engine), expire_on_commit=False) as session:
            user, _ = create(session, data=data, actor=None)
            session.commit()
    except AppError as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"created {user.role} {user.email} ({user.id})")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.demo.generator import run

    engine = make_engine(settings)
    try:
        if _not_at_head(engine):
            return 2
        return run(lambda: Session(writer(engine)), seed=args.seed, if_empty=args.if_empty)
    finally:
        engine.dispose()


def _import(args: argparse.Namespace, settings: Settings) -> int:
    """Observations from a CSV with the export's columns, on behalf of --user; all or nothing."""
    from sqlalchemy import func, select

    from app.models import User
    from app.observations.importing import import_rows

    engine = make_engine(settings)
    try:
        if _not_at_head(engine):
            return 2
        with (
            open(args.file, encoding="utf-8-sig", newline="") as fh,
            Session(writer(engine), expire_on_commit=False) as session,
        ):
            user = session.scalars(
                select(User).where(func.lower(User.email) == args.user.strip().lower())
            ).first()
            if user is None or not user.active:
                print(f"No active user {args.user}.", file=sys.stderr)
                return 2
            report = import_rows(session, user, fh)
            for err in report.errors:
                print(f"line {err.line} (id {err.id or '-'}): {'; '.join(err.messages)}")
            if report.errors:
                session.rollback()
                print(
                    f"{len(report.errors)} rows refused: nothing imported. Fix them and import "
                    "the file again.",
                    file=sys.stderr,
                )
                return 1
            session.commit()
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        print(f"Cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"imported {report.created} observations ({report.exists} already there)")
    return 0


def _cleanup(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from app.attachments import service as attachments
    from app.attachments.storage import storage_for

    hours = settings.orphan_grace_hours if args.older_than_hours is None else args.older_than_hours
    if hours < 0:
        print("--older-than-hours may not be negative.", file=sys.stderr)
        return 2
    engine = make_engine(settings)
    try:
        if _not_at_head(engine):
            return 2
        with Session(writer(engine), expire_on_commit=False) as session:
            removed = attachments.remove_orphans(session, older_than=timedelta(hours=hours))
            session.commit()
    finally:
        engine.dispose()
    attachments.purge_files(storage_for(settings), removed)
    for r in removed:
        print(f"removed attachment {r.id} ({r.size} bytes, uploaded {r.created_at.isoformat()})")
    print(f"removed {len(removed)} unlinked attachment(s) older than {hours} h")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gembalog", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API and the app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_migrate)
    cu = sub.add_parser("create-user", help="create a user; the password is read from stdin")
    cu.add_argument("--email", required=True)
    cu.add_argument("--role", required=True, choices=[r.value for r in Role])
    cu.add_argument("--name")
    cu.set_defaults(func=_create_user)
    cl = sub.add_parser("cleanup", help="remove attachments never linked to an observation")
    cl.add_argument(
        "--older-than-hours",
        type=float,
        default=None,
        help="grace period (default: GEMBALOG_ORPHAN_GRACE_HOURS, 72)",
    )
    cl.set_defaults(func=_cleanup)
    demo = sub.add_parser("demo", help="load the demo organisation into an empty database")
    demo.add_argument("--if-empty", action="store_true", help="skip quietly when not empty")
    demo.add_argument("--seed", type=int, default=1, help="the same seed gives the same data")
    demo.set_defaults(func=_demo)
    imp = sub.add_parser("import", help="import observations from a CSV (the export's columns)")
    imp.add_argument("file", help="CSV file, UTF-8, with a header row")
    imp.add_argument("--user", required=True, help="email of the observer the rows belong to")
    imp.set_defaults(func=_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    return int(args.func(args, get_settings()))


if __name__ == "__main__":
    raise SystemExit(main())
