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
REMINDER_OVERRIDE = "Đã đặt thời hạn mới cho nhiệm vụ mã {code}: {due}. Lịch nhắc việc sẽ theo ngày này."

USAGE = "Cách dùng: {usage}"

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
APPROVED_ADMIN = "Đã duyệt yêu cầu #{id} ({name} — {unit}, {locality})."
REJECTED_ADMIN = "Đã từ chối yêu cầu #{id} ({name})."
APPROVED_USER = (
    "Yêu cầu đăng ký cán bộ #{id} của bạn đã được duyệt ({unit}, {locality}). "
    "Bạn có thể dùng /nhiemvu, /hanchot và nhận nhắc việc."
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
