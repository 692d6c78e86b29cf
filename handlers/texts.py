"""What the bot says, in one place (Vietnamese, short, polite)."""
from __future__ import annotations

BOT_NAME = "Trợ lý CCHC"

START = (
    "Xin chào {name}! Tôi là {bot}, trợ lý hỏi đáp về kế hoạch cải cách hành chính và thủ tục hành chính "
    "của xã, phường.\n"
    "\n"
    "Bạn có thể hỏi bằng tiếng Việt có dấu hoặc không dấu, ví dụ:\n"
    "• Chơn Thành: ai chủ trì rà soát, phát hiện các thủ tục hành chính ban hành chưa đúng quy định?\n"
    "• Xã Bình Giang: ai chủ trì triển khai các nhiệm vụ về cải cách thủ tục hành chính?\n"
    "• Chơn Thành đặt mục tiêu tỷ lệ hồ sơ trực tuyến là bao nhiêu?\n"
    "Sau một câu trả lời, bạn có thể hỏi tiếp ngắn gọn: \"còn ai phối hợp?\", \"hạn khi nào?\".\n"
    "\n"
    "{locality_line}"
    "Gõ /help để xem các lệnh."
)
LOCALITY_LINE_SET = "Địa bàn đang chọn: {locality}. Đổi bằng /diaban <tên>.\n\n"
LOCALITY_LINE_UNSET = "Chọn xã/phường của bạn bằng /diaban <tên> để câu trả lời sát hơn.\n\n"

HELP_HEADER = "Các lệnh (vai trò của bạn: {role}):"
HELP_FOOTER = "Hoặc gõ thẳng câu hỏi, không cần lệnh."
ROLE_NAMES = {"citizen": "người dân", "staff": "cán bộ", "admin": "quản trị"}

EMPTY = "Bạn chưa nhập nội dung. Hãy gõ câu hỏi, ví dụ: \"Ai chủ trì rà soát thủ tục hành chính?\""
TOO_LONG = "Tin nhắn dài quá ({n} ký tự). Vui lòng hỏi ngắn gọn hơn, tối đa {limit} ký tự."
UNSUPPORTED = "Xin lỗi, tôi chỉ đọc được tin nhắn chữ. Vui lòng gõ câu hỏi bằng chữ."
UNREADABLE = (
    "Xin lỗi, tôi không xem được nội dung tin nhắn vừa rồi: ứng dụng chat không chuyển cho bot tệp, thẻ liên kết "
    "hay tin của tài khoản đang bật chế độ bảo vệ tin nhắn. Anh/chị vui lòng gõ câu hỏi dưới dạng chữ."
)
QUEUE_FULL = (
    "Tôi đang trả lời các tin nhắn trước của anh/chị. Vui lòng chờ các câu trả lời đó rồi hỏi tiếp; "
    "những tin gửi thêm lúc này sẽ không được xử lý."
)
UNKNOWN_COMMAND = "Không có lệnh /{name}. Gõ /help để xem các lệnh."
DENIED_STAFF = (
    "Lệnh /{name} chỉ dành cho cán bộ đã được duyệt. Nếu bạn là cán bộ, hãy đăng ký bằng /dangky <đơn vị>."
)
DENIED_ADMIN = "Lệnh /{name} chỉ dành cho quản trị viên."
RATE_LIMITED = "Bạn gửi tin nhanh quá. Vui lòng chờ khoảng {seconds} giây rồi hỏi tiếp nhé."
ERROR = "Xin lỗi, hệ thống đang gặp sự cố khi trả lời. Vui lòng thử lại sau ít phút."
NO_INDEX = "Hệ thống chưa có dữ liệu tài liệu. Quản trị viên cần lập chỉ mục (/reindex)."
EXPIRED_CHOICE = "Lựa chọn này đã hết hạn. Vui lòng hỏi lại."
CHOICES_HINT = "Trả lời bằng số (1–{n}) để chọn"
NOT_ENABLED = "Tính năng nhắc việc chưa được bật trên hệ thống này."
REMINDER_NOT_STAFF = "Bạn chưa đăng ký đơn vị. Gửi /dangky <đơn vị> để nhận nhắc việc của đơn vị mình."
REMINDER_USAGE = {
    "xong": "/xong <mã nhiệm vụ>",
    "hoanlai": "/hoanlai <mã nhiệm vụ> [số ngày, mặc định 3]",
    "dathan": "/dathan <mã nhiệm vụ> <ngày/tháng/năm>",
}
REMINDER_UNKNOWN = "Không tìm thấy nhiệm vụ có mã {code}. Mã nằm trong tin nhắc việc hoặc trong /viectoi."
REMINDER_DONE = "Đã ghi nhận hoàn thành nhiệm vụ mã {code} (hạn {due}); đã hủy {cancelled} nhắc việc đang chờ."
REMINDER_SNOOZED = "Đã hoãn nhắc việc mã {code} {days} ngày; sẽ nhắc lại ngày {until}."
REMINDER_NOT_OWNER = (
    "Nhiệm vụ mã {code} do {leads} ({locality}) chủ trì. Chỉ cán bộ của đơn vị chủ trì tại địa bàn đó hoặc quản trị "
    "viên mới được báo hoàn thành hay hoãn nhắc việc của nhiệm vụ này."
)
SNOOZE_DAYS_INVALID = (
    "Số ngày hoãn \"{value}\" không hợp lệ: cần một số nguyên từ 1 đến {max}, ví dụ: /hoanlai {code} 7"
)
REMINDER_OVERRIDE = "Đã đặt thời hạn mới cho nhiệm vụ mã {code}: {due}. Lịch nhắc việc sẽ theo ngày này."

USAGE = "Cách dùng: {usage}"
NUMBER_INVALID = "\"{value}\" không phải số hợp lệ: cần một số nguyên từ {lo} đến {hi}. Cách dùng: {usage}"

LOCALITY_SET = "Đã chọn địa bàn: {locality}. Các câu hỏi tiếp theo sẽ ưu tiên tài liệu của địa bàn này."
LOCALITY_CLEARED = "Đã bỏ chọn địa bàn; tôi sẽ tìm trong tài liệu của tất cả các địa bàn."
LOCALITY_CURRENT = "Địa bàn đang chọn: {locality}."
LOCALITY_NONE = "Chưa chọn địa bàn."
LOCALITY_PICK = "Chọn địa bàn:"
LOCALITY_UNKNOWN = "Không tìm thấy địa bàn \"{name}\". Các địa bàn có tài liệu: {known}."
LOCALITY_CLEAR_WORDS = {"tat ca", "bo", "bo chon", "xoa", "all", "none"}

REGISTER_NEED_LOCALITY = "Vui lòng chọn địa bàn trước (/diaban <tên>), rồi gửi lại /dangky <đơn vị>."
REGISTER_SENT = (
    "Đã gửi yêu cầu đăng ký cán bộ #{id}: {unit}, {locality}. Quản trị viên sẽ xem xét; "
    "tôi sẽ báo bạn khi có kết quả."
)
REGISTER_ALREADY = "Bạn đã là cán bộ đã được duyệt ({unit}, {locality})."
REGISTER_UNAVAILABLE = "Chức năng đăng ký cán bộ chưa sẵn sàng. Vui lòng liên hệ quản trị viên."
ADMIN_NEW_REQUEST = (
    "Yêu cầu đăng ký cán bộ #{id}: {name} ({channel}) — {unit}, {locality}.\n"
    "Duyệt: /duyet {id}   Từ chối: /tuchoi {id}"
)
APPROVE_BUTTON = "Duyệt #{id}"
REJECT_BUTTON = "Từ chối #{id}"
# what the [Duyệt #N] [Từ chối #N] keyboard becomes once pressed (shown as "✓ Đã duyệt #N")
APPROVED_MARK = "Đã duyệt #{id}"
REJECTED_MARK = "Đã từ chối #{id}"
DECIDED_MARK = "Đã xử lý #{id}"
APPROVED_ADMIN = "Đã duyệt yêu cầu #{id} ({name} — {unit}, {locality})."
REJECTED_ADMIN = "Đã từ chối yêu cầu #{id} ({name})."
APPROVED_USER = (
    "Yêu cầu đăng ký cán bộ #{id} của bạn đã được duyệt ({unit}, {locality}). "
    "Bạn sẽ nhận nhắc việc của đơn vị và có thể dùng /viectoi, /xong, /hoanlai."
)
REJECTED_USER = "Yêu cầu đăng ký cán bộ #{id} của bạn chưa được duyệt.{reason}"
REQUEST_NOT_FOUND = "Không có yêu cầu #{id} đang chờ duyệt."
PENDING_NONE = "Không có yêu cầu đăng ký nào đang chờ duyệt."
PENDING_HEADER = "Yêu cầu đang chờ duyệt:"

REINDEX_STARTED = "Đang lập lại chỉ mục tài liệu…"
REINDEX_DONE = "Đã lập lại chỉ mục ({seconds} giây). Các câu hỏi mới sẽ dùng dữ liệu mới."
REINDEX_FAILED = "Lập chỉ mục thất bại: {error}"
REINDEX_BUSY = "Đang lập chỉ mục, vui lòng chờ."

STATS = (
    "Thống kê {days} ngày qua:\n"
    "• Tin nhắn: {messages} từ {users} người dùng\n"
    "• Câu hỏi: {questions} (trả lời được {answered}, chưa trả lời được {unanswered})\n"
    "• Lệnh: {commands}; bị từ chối/giới hạn: {refused}\n"
    "• Thời gian trả lời trung bình: {avg_latency_ms} ms"
)
STATS_CHANNELS = "Theo kênh: {items}"
STATS_INTENTS = "Theo loại câu hỏi: {items}"
STATS_UNANSWERED = "Câu hỏi chưa trả lời được nhiều nhất:"

# ---- chat experience: feedback, paging, uploads, deep links, groups
FEEDBACK_UP_BUTTON = "👍 Đúng"
FEEDBACK_DOWN_BUTTON = "👎 Chưa đúng"
FEEDBACK_HINT = "Câu trả lời có đúng không? Gõ + nếu đúng, - nếu chưa đúng."
FEEDBACK_THANKS_UP = "Cảm ơn anh/chị đã đánh giá!"
FEEDBACK_THANKS_DOWN = (
    "Cảm ơn anh/chị. Câu hỏi đã được ghi lại để cán bộ xem và bổ sung tài liệu hoặc câu trả lời."
)
FEEDBACK_EXPIRED = "Câu trả lời này đã quá hạn đánh giá."
CHOSEN_MARK = "✓ {label}"

PAGE_PREV = "◀ Trang {n}"
PAGE_NEXT = "Trang {n} ▶"
PAGE_TYPED_HINT = "(Gõ “{command} trang {next}” để xem tiếp.)"

CANCELLED = "Đã hủy lựa chọn đang chờ."
NOTHING_TO_CANCEL = "Không có lựa chọn nào đang chờ."
EDITED_PREFIX = "✏️ Trả lời theo câu hỏi đã sửa:"
EDITED_COMMAND = "Tôi thấy anh/chị đã sửa một lệnh. Để tránh làm hai lần, vui lòng gửi lại lệnh đó thành tin nhắn mới."
START_LOCALITY_UNKNOWN = "Không tìm thấy địa bàn “{name}” của đường dẫn; chọn bằng /diaban <tên>.\n\n"

UPLOAD_DENIED = (
    "Chỉ quản trị viên mới gửi được tài liệu cho hệ thống. Anh/chị có thể gõ câu hỏi bằng chữ; "
    "nếu cần bổ sung kế hoạch, vui lòng gửi cho cán bộ phụ trách."
)
UPLOAD_REFUSED = "Không nhận tệp {name}: {reason}"
UPLOAD_DOWNLOAD_FAILED = "Không tải được tệp {name} từ máy chủ của ứng dụng chat. Vui lòng gửi lại."
UPLOAD_NOT_READ = (
    "Đã lưu nhưng không đọc được tệp {name}: {reason}. Tệp đã được chuyển ra khỏi kho tài liệu (thư mục rejected)"
    "{restored}; chỉ mục không đổi."
)
UPLOAD_RESTORED = ", tệp cũ cùng tên được giữ nguyên"
UPLOAD_DONE = "Đã thêm {name} vào kho tài liệu và cập nhật chỉ mục ({seconds} giây)."
UPLOAD_REPLACED = "Tệp cũ cùng tên đã được thay (bản cũ lưu trong thư mục superseded)."
UPLOAD_SUPERSEDED = "Văn bản này thay thế {old} (cùng cơ quan ban hành và số hiệu); bản cũ đã chuyển sang thư mục superseded."
UPLOAD_WARNINGS = "Lưu ý:"
UPLOAD_HOW_TELEGRAM = (
    "Gửi tệp kế hoạch hoặc danh mục thủ tục ({kinds}, tối đa {mb} MB) vào cuộc trò chuyện này; "
    "tôi sẽ lưu vào kho tài liệu, lập chỉ mục và báo kết quả trích xuất. Gỡ một tệp: /xoa <tên tệp>."
)
UPLOAD_HOW_ZALO = (
    "Zalo chưa cho phép bot nhận tệp đính kèm (Zalo Bot API không chuyển tệp cho bot). Để thêm kế hoạch, "
    "vui lòng gửi tệp cho bot trên Telegram hoặc chép tệp vào thư mục tài liệu của máy chủ rồi gõ /reindex."
)
UPLOAD_HOW_CONSOLE = "Trên console, chép tệp vào thư mục tài liệu ({corpus}) rồi gõ /reindex."
UNSUPPORTED_ZALO_ADMIN = "Tôi chỉ đọc được tin nhắn chữ. " + UPLOAD_HOW_ZALO
UPLOAD_BUSY = "Đang lập chỉ mục một tệp khác, vui lòng chờ rồi gửi lại."

REMOVE_USAGE = "Cách dùng: /xoa <tên tệp>. Các tệp hiện có:\n{files}"
REMOVE_NOT_FOUND = "Không có tệp nào tên “{name}” trong kho tài liệu. Các tệp hiện có:\n{files}"
REMOVE_PICK = "Có nhiều tệp khớp “{name}”. Chọn tệp cần gỡ:"
REMOVE_DONE = "Đã gỡ {name} khỏi kho tài liệu (bản lưu trong thư mục removed) và cập nhật chỉ mục ({seconds} giây)."

STATS_FEEDBACK = "• Đánh giá câu trả lời: 👍 {up}, 👎 {down} (tỷ lệ hài lòng {rate})"
STATS_FEEDBACK_NONE = "• Đánh giá câu trả lời: chưa có"
STATS_LATEST_UNANSWERED = "Câu hỏi chưa trả lời được gần đây:"
STATS_LATEST_DOWN = "Câu trả lời bị đánh giá 👎 gần đây:"

HEALTH_REMINDERS_STOPPED = (
    "⚠️ Nhắc việc đang dừng từ {since}: {error}. Hệ thống đang tự thử lại; nếu kéo dài, kiểm tra nhật ký máy chủ."
)
HEALTH_ZALO_QUOTA = "⚠️ Zalo hết hạn mức tin nhắn từ {since}: tạm dừng gửi qua Zalo, thử lại lúc {until}."
ZALO_QUOTA_ALERT = (
    "Cảnh báo: tài khoản Zalo Bot đã dùng hết hạn mức tin nhắn của gói (lỗi 429). Bot tạm dừng gửi tin qua Zalo "
    "(trả lời và nhắc việc) và sẽ thử lại lúc {until}; nhắc việc chưa gửi được vẫn được giữ lại."
)
ZALO_QUOTA_BACK = "Zalo Bot đã gửi tin được trở lại; các nhắc việc còn chờ sẽ được gửi."


# /thongke shows what people ask in words, not the answerer's internal names.
INTENT_LABELS = {
    "lead": "ai chủ trì", "coord": "ai phối hợp", "deadline": "thời hạn", "lead+deadline": "chủ trì và thời hạn",
    "unit_tasks": "nhiệm vụ của đơn vị", "due_list": "việc đến hạn", "figure": "chỉ tiêu, số liệu",
    "plan_meta": "số, ngày, người ký văn bản", "general": "nội dung kế hoạch", "not_found": "không tìm thấy",
    "smalltalk": "chào hỏi", "empty": "câu trống", "procedure_not_found": "thủ tục không có trong dữ liệu",
    "procedure_choice": "chọn thủ tục", "command": "lệnh", "upload": "tải tài liệu lên",
    "too_long": "tin quá dài", "rate_limited": "gửi quá nhanh", "queue_full": "gửi dồn", "error": "lỗi",
}


def intent_label(intent: str) -> str:
    if intent in INTENT_LABELS:
        return INTENT_LABELS[intent]
    if intent.startswith("procedure"):
        return "thủ tục hành chính"
    return intent or "?"
