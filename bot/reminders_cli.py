"""CLI commands for staff and reminders; ``python -m bot`` wires them in:

    from bot import reminders_cli
    reminders_cli.add_parsers(subparsers)           # adds: staff, remind, done
    ...
    if reminders_cli.handles(args):
        sys.exit(reminders_cli.run(args, settings))

Contract (other tools depend on it):
    staff add --name NAME --unit UNIT --locality LOC --channel console --chat-id ID   (approved; prints the id)
    staff list [--json] [--status S]
    staff remove ID
    remind [--at ISO_DATETIME] [--dry-run] [--json]
    done TASK_ID|CODE [--occurrence YYYY-MM-DD] [--by WHO]

``remind --json`` prints a JSON array of {task_id, task, locality, unit, due, offset_days, recipients, text}.
Also runnable alone: ``python -m bot.reminders_cli remind --dry-run --json``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from bot.reminders import Reminders, build_sender
from bot.staff import CHANNELS, STATUSES, StaffRegistry, connect

COMMANDS = ("staff", "remind", "done")


def add_parsers(subparsers) -> None:
    staff = subparsers.add_parser("staff", help="staff who receive reminders (add / list / remove)")
    ss = staff.add_subparsers(dest="staff_command", required=True)
    a = ss.add_parser("add", help="register a staff member (approved at once)")
    a.add_argument("--name", required=True)
    a.add_argument("--unit", required=True, help='unit name, e.g. "Phòng Văn hóa - Xã hội"')
    a.add_argument("--locality", required=True, help='e.g. "Hải Hậu"')
    a.add_argument("--channel", required=True, choices=CHANNELS)
    a.add_argument("--chat-id", required=True)
    a.add_argument("--user-id", default="")
    a.add_argument("--quiet", default=None, metavar="HH:MM-HH:MM", help="quiet hours, local time")
    lst = ss.add_parser("list", help="list staff")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--status", choices=STATUSES)
    rm = ss.add_parser("remove", help="remove a staff member")
    rm.add_argument("id", type=int)
    ap = ss.add_parser("approve", help="approve a pending registration")
    ap.add_argument("id", type=int)
    ap.add_argument("--by", default="cli")

    r = subparsers.add_parser("remind", help="send (or with --dry-run show) the reminders due at an instant")
    r.add_argument("--at", default=None, help="ISO date-time (local time zone when none given); default: now")
    r.add_argument("--dry-run", action="store_true", help="show what would be sent; send and record nothing")
    r.add_argument("--json", action="store_true")
    r.add_argument("--digests", action="store_true", help="also list daily digests (task_id empty)")

    d = subparsers.add_parser("done", help="mark a task occurrence done (stops its reminders)")
    d.add_argument("task_id", help="task id or reminder code (mã)")
    d.add_argument("--occurrence", default=None, help="YYYY-MM-DD (default: the oldest open occurrence)")
    d.add_argument("--by", default="cli")

    for name, p in (("staff", staff), ("remind", r), ("done", d)):
        p.set_defaults(reminders_command=name)


def handles(args) -> bool:
    return getattr(args, "reminders_command", None) in COMMANDS


def _instant(text: str | None, tz: ZoneInfo) -> datetime:
    if not text:
        return datetime.now(timezone.utc)
    dt = datetime.fromisoformat(text)
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt


def run(args, settings) -> int:
    cmd = getattr(args, "reminders_command", None)
    db_path = settings.db_path
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = connect(db_path)
    try:
        if cmd == "staff":
            return _staff(args, StaffRegistry(db))
        rem = Reminders(db, settings)
        tz = rem.cfg.tz
        if cmd == "remind":
            return _remind(args, settings, rem, _instant(args.at, tz))
        if cmd == "done":
            rec = rem.done(args.task_id, args.occurrence, by=args.by)
            if rec is None:
                print(f"không tìm thấy nhiệm vụ {args.task_id}", file=sys.stderr)
                return 1
            print(json.dumps(rec, ensure_ascii=False))
            return 0
    finally:
        db.conn.close()
    print(f"unknown command {cmd!r}", file=sys.stderr)
    return 2


def _staff(args, reg: StaffRegistry) -> int:
    sub = args.staff_command
    if sub == "add":
        qs = qe = None
        if args.quiet:
            qs, _, qe = args.quiet.partition("-")
        try:
            s = reg.add_approved(args.name, args.unit, args.locality, args.channel, args.chat_id,
                                 user_id=args.user_id, quiet_start=qs, quiet_end=qe)
        except ValueError as e:
            print(str(e), file=sys.stderr)
            return 2
        print(s.id)
        return 0
    if sub == "list":
        people = reg.list(args.status)
        if args.json:
            print(json.dumps([s.to_dict() for s in people], ensure_ascii=False, indent=2))
        else:
            for s in people:
                quiet = f" quiet {s.quiet_start}-{s.quiet_end}" if s.quiet_start else ""
                print(f"{s.id}\t{s.status}\t{s.name}\t{s.unit}\t{s.locality}\t{s.channel}:{s.chat_id}{quiet}")
        return 0
    if sub == "remove":
        s = reg.remove(args.id)
        if s is None:
            print(f"no staff {args.id}", file=sys.stderr)
            return 1
        print(s.id)
        return 0
    if sub == "approve":
        s = reg.approve(args.id, by=args.by)
        if s is None:
            print(f"no staff {args.id}", file=sys.stderr)
            return 1
        print(s.id)
        return 0
    return 2


def _remind(args, settings, rem: Reminders, at: datetime) -> int:
    # With --json, console messages go to stderr so that stdout stays one JSON document.
    sender = build_sender(settings, console_stream=sys.stderr if args.json else sys.stdout)
    entries = rem.preview(at, include_digests=args.digests, channels=None if args.dry_run else sender.channels)
    if not args.dry_run:
        stats = asyncio.run(rem.tick(sender, at))
        print(f"reminders: {stats}", file=sys.stderr)
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
    elif args.dry_run:
        if not entries:
            print("(không có nhắc việc nào)")
        for e in entries:
            print(f"{e['due']} ({e['offset_days']:+d}) {e['locality']} / {e['unit']} -> {', '.join(e['recipients'])}")
            print("    " + e["text"].replace("\n", "\n    "))
    return 0


def main(argv: list[str] | None = None) -> int:
    from bot.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m bot.reminders_cli")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parsers(sub)
    args = parser.parse_args(argv)
    return run(args, load_settings())


if __name__ == "__main__":
    sys.exit(main())
