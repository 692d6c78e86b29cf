"""Command table: Vietnamese names with English aliases, the role each needs, and parsing of a command line."""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.textnorm import fold

CITIZEN, STAFF, ADMIN = "citizen", "staff", "admin"
_RANK = {CITIZEN: 0, STAFF: 1, ADMIN: 2}


@dataclass(frozen=True)
class Command:
    name: str  # canonical (Vietnamese) name
    aliases: tuple[str, ...]
    role: str  # least role allowed
    usage: str  # "/nhiemvu <đơn vị>"
    help: str  # one line, Vietnamese
    # the highest role whose menus (/help, Telegram's command menu) list it: /dangky is for people who are not
    # staff yet, so staff and admins do not see it (they may still type it, e.g. staff moving to another unit)
    menu_until: str = ADMIN


COMMANDS: list[Command] = [
    Command("start", ("batdau",), CITIZEN, "/start", "giới thiệu và ví dụ câu hỏi"),
    Command("help", ("trogiup", "huongdan"), CITIZEN, "/help", "danh sách lệnh"),
    Command("diaban", ("locality",), CITIZEN, "/diaban <tên xã/phường>", "chọn địa bàn cho cuộc trò chuyện này"),
    Command("dangky", ("register",), CITIZEN, "/dangky <đơn vị>", "đăng ký tài khoản cán bộ (chờ quản trị duyệt)",
            menu_until=CITIZEN),
    # Plans are public documents (contract 5): a unit's tasks and due lists are citizen-level.
    Command("nhiemvu", ("tasks",), CITIZEN, "/nhiemvu <đơn vị>", "nhiệm vụ của một đơn vị"),
    Command("hanchot", ("due",), CITIZEN, "/hanchot [khoảng thời gian]", "việc đến hạn (vd: /hanchot tháng này)"),
    Command("huy", ("cancel",), CITIZEN, "/huy", "hủy lựa chọn đang chờ"),
    Command("viectoi", ("upcoming",), STAFF, "/viectoi", "việc sắp đến hạn của đơn vị bạn"),
    Command("xong", ("done",), STAFF, "/xong <mã nhiệm vụ>", "báo đã hoàn thành một nhiệm vụ"),
    Command("hoanlai", ("snooze",), STAFF, "/hoanlai <mã nhiệm vụ> [số ngày]", "hoãn nhắc việc"),
    Command("dathan", ("setdue",), ADMIN, "/dathan <mã nhiệm vụ> <ngày/tháng/năm>", "đặt lại thời hạn một nhiệm vụ"),
    Command("duyet", ("approve",), ADMIN, "/duyet <mã yêu cầu>", "duyệt đăng ký cán bộ"),
    Command("tuchoi", ("reject",), ADMIN, "/tuchoi <mã yêu cầu> [lý do]", "từ chối đăng ký cán bộ"),
    Command("reindex", ("capnhat",), ADMIN, "/reindex", "lập lại chỉ mục tài liệu"),
    Command("thongke", ("stats",), ADMIN, "/thongke [số ngày]", "thống kê, đánh giá, câu hỏi chưa trả lời được"),
    Command("tailen", ("upload",), ADMIN, "/tailen", "cách gửi kế hoạch, danh mục thủ tục lên hệ thống"),
    Command("xoa", ("remove",), ADMIN, "/xoa <tên tệp>", "gỡ một tệp khỏi kho tài liệu"),
]

_BY_NAME: dict[str, Command] = {}
for _c in COMMANDS:
    for _n in (_c.name, *_c.aliases):
        _BY_NAME[_n] = _c

_COMMAND_RE = re.compile(r"^/([^\s@]+)(?:@\S+)?(?:\s+(.*))?$", re.DOTALL)


def parse(text: str) -> tuple[str, str] | None:
    """'/NhiệmVụ@CchcBot  Phòng Văn hóa ' -> ('nhiemvu', 'Phòng Văn hóa'); None when not a command.

    The name is accent-folded and lower-cased, so /nhiệmvụ and /NHIEMVU both mean /nhiemvu.
    """
    m = _COMMAND_RE.match(text.strip())
    if not m:
        return None
    name = fold(m.group(1)).replace(" ", "")
    return name, (m.group(2) or "").strip()


def parse_count(text: str, lo: int, hi: int) -> int | None:
    """A whole number in ASCII digits within [lo, hi], else None: "²" (a digit to str.isdigit, not to int),
    "-5", "1e3", "٣" and 99999999999999999999 are refused rather than guessed at."""
    t = text.strip()
    if not (t.isascii() and t.isdigit()) or len(t.lstrip("0")) > len(str(hi)):
        return None
    n = int(t)
    return n if lo <= n <= hi else None


def lookup(name: str) -> Command | None:
    return _BY_NAME.get(name)


def allowed(role: str, command: Command) -> bool:
    return _RANK[role] >= _RANK[command.role]


def visible(role: str) -> list[Command]:
    """Commands shown to a user with `role` (the /help list and the Telegram menus), in display order: those the
    role may use, except the ones meant only for lower roles (/dangky once someone is staff or admin)."""
    return [c for c in COMMANDS if allowed(role, c) and _RANK[role] <= _RANK[c.menu_until]]
