"""Generate tests/fixtures/tthc-mau-xa-hai-hau.docx: a SAMPLE catalogue of commune procedures (TTHC).

It follows the published layout (appendix of a decision: Phần I list table with field group rows, Phần II one
block per procedure under the official lettered headings). It is a test fixture of the decision layout only:
the bundled corpus answers citizens from real records of the national procedure database (corpus/tthc/*.json). Facts are the national rules as published (Luật Hộ tịch 2014, Nghị định 123/2015/NĐ-CP,
Nghị định 23/2015/NĐ-CP, Thông tư 04/2020/TT-BTP, Thông tư 85/2019/TT-BTC, Thông tư 226/2016/TT-BTC, Thông tư
281/2016/TT-BTC) and the procedure codes of the national TTHC database. Civil-status fees that the provincial
council sets are written as such, without inventing an amount.

Run: .venv/bin/python scripts/make_sample_tthc.py
"""
from __future__ import annotations

from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tthc-mau-xa-hai-hau.docx"
XA = "xã Hải Hậu"
UBND = "Ủy ban nhân dân xã Hải Hậu"
ONE_STOP = "Trung tâm Phục vụ hành chính công xã Hải Hậu (Bộ phận Một cửa)"
PROVINCE_FEE = "Lệ phí theo mức do Hội đồng nhân dân tỉnh quy định (Nghị quyết của HĐND tỉnh Ninh Bình về lệ phí hộ tịch)."
HT_BASIS = ["Luật Hộ tịch năm 2014", "Nghị định số 123/2015/NĐ-CP", "Thông tư số 04/2020/TT-BTP",
            "Thông tư số 85/2019/TT-BTC"]
CT_BASIS = ["Nghị định số 23/2015/NĐ-CP", "Thông tư số 01/2020/TT-BTP", "Thông tư số 226/2016/TT-BTC"]
ONLINE = "Nộp trực tiếp tại " + ONE_STOP + "; nộp trực tuyến trên Cổng Dịch vụ công quốc gia (dichvucong.gov.vn) hoặc gửi qua dịch vụ bưu chính."
IN_PERSON_ONLY = "Nộp trực tiếp tại " + ONE_STOP + "."
SAME_DAY_15H = "Ngay trong ngày tiếp nhận hồ sơ; trường hợp nhận hồ sơ sau 15 giờ mà không giải quyết được ngay thì trả kết quả trong ngày làm việc tiếp theo."

PROCS = [
    dict(field="Hộ tịch", code="1.001193", name="Đăng ký khai sinh",
         steps=["Người có yêu cầu nộp hồ sơ tại " + ONE_STOP + " hoặc nộp trực tuyến.",
                "Công chức tư pháp - hộ tịch kiểm tra hồ sơ; nếu đầy đủ, hợp lệ thì ghi vào Sổ hộ tịch, trình Chủ tịch UBND xã ký Giấy khai sinh và trao cho người có yêu cầu."],
         channels=ONLINE,
         documents=["Tờ khai đăng ký khai sinh theo mẫu (01 bản).",
                    "Giấy chứng sinh (01 bản chính); trường hợp không có Giấy chứng sinh thì nộp văn bản của người làm chứng xác nhận về việc sinh hoặc giấy cam đoan về việc sinh.",
                    "Xuất trình giấy tờ tùy thân của người đi đăng ký khai sinh."],
         time=SAME_DAY_15H,
         applicants="Cha, mẹ hoặc người thân thích có trách nhiệm đăng ký khai sinh cho trẻ em trong thời hạn 60 ngày kể từ ngày sinh.",
         result="Giấy khai sinh (bản chính).",
         fee="Miễn lệ phí đăng ký khai sinh đúng hạn. Đăng ký khai sinh quá hạn: " + PROVINCE_FEE,
         forms=["Tờ khai đăng ký khai sinh (Thông tư số 04/2020/TT-BTP)."],
         conditions="Không.", basis=HT_BASIS),
    dict(field="Hộ tịch", code="1.004884", name="Đăng ký lại khai sinh",
         steps=["Người có yêu cầu nộp hồ sơ tại " + ONE_STOP + " nơi đã đăng ký khai sinh trước đây hoặc nơi người đó cư trú.",
                "Công chức tư pháp - hộ tịch kiểm tra, xác minh hồ sơ; nếu việc đăng ký lại khai sinh là đúng quy định thì báo cáo Chủ tịch UBND xã ký cấp Giấy khai sinh."],
         channels=ONLINE,
         documents=["Tờ khai đăng ký lại khai sinh theo mẫu (01 bản).",
                    "Bản sao toàn bộ hồ sơ, giấy tờ của người yêu cầu hoặc hồ sơ, giấy tờ, tài liệu khác trong đó có thông tin liên quan đến nội dung khai sinh."],
         time="05 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ.",
         applicants="Người đã đăng ký khai sinh tại cơ quan đăng ký hộ tịch của Việt Nam nhưng Sổ hộ tịch và bản chính Giấy khai sinh đều bị mất.",
         result="Giấy khai sinh (bản chính).",
         fee=PROVINCE_FEE,
         forms=["Tờ khai đăng ký lại khai sinh."],
         conditions="Việc khai sinh đã được đăng ký tại cơ quan có thẩm quyền của Việt Nam trước ngày 01/01/2016 nhưng Sổ hộ tịch và bản chính Giấy khai sinh đều bị mất.",
         basis=HT_BASIS),
    dict(field="Hộ tịch", code="1.001022", name="Đăng ký nhận cha, mẹ, con",
         steps=["Người nhận và người được nhận là cha, mẹ, con nộp hồ sơ tại " + ONE_STOP + ".",
                "Khi đăng ký, các bên phải có mặt; công chức tư pháp - hộ tịch ghi vào Sổ hộ tịch, các bên cùng ký và được cấp Trích lục đăng ký nhận cha, mẹ, con."],
         channels=ONLINE,
         documents=["Tờ khai đăng ký nhận cha, mẹ, con theo mẫu (01 bản).",
                    "Văn bản của cơ quan y tế, cơ quan giám định hoặc cơ quan có thẩm quyền xác nhận quan hệ cha, mẹ, con; nếu không có thì phải có thư từ, phim ảnh, băng, đĩa, đồ dùng, vật dụng khác chứng minh quan hệ cha, mẹ, con và văn bản cam đoan của cha, mẹ về việc trẻ em là con chung."],
         time="03 ngày làm việc kể từ ngày nhận đủ hồ sơ; trường hợp cần xác minh thì thời hạn được kéo dài thêm không quá 05 ngày làm việc.",
         applicants="Cha, mẹ, con là công dân Việt Nam cư trú trong nước; bên nhận và bên được nhận còn sống vào thời điểm đăng ký và không có tranh chấp.",
         result="Trích lục đăng ký nhận cha, mẹ, con.",
         fee=PROVINCE_FEE,
         forms=["Tờ khai đăng ký nhận cha, mẹ, con."],
         conditions="Không có tranh chấp về việc nhận cha, mẹ, con.", basis=HT_BASIS),
    dict(field="Hộ tịch", code="1.000894", name="Đăng ký kết hôn",
         steps=["Hai bên nam, nữ nộp hồ sơ tại " + ONE_STOP + " nơi cư trú của một trong hai bên.",
                "Khi đăng ký kết hôn, hai bên nam, nữ phải có mặt; công chức tư pháp - hộ tịch ghi vào Sổ hộ tịch, hai bên cùng ký và được trao Giấy chứng nhận kết hôn."],
         channels="Nộp trực tiếp tại " + ONE_STOP + " hoặc nộp trực tuyến; khi nhận Giấy chứng nhận kết hôn hai bên nam, nữ phải có mặt.",
         documents=["Tờ khai đăng ký kết hôn theo mẫu (01 bản; hai bên có thể dùng chung một tờ khai).",
                    "Giấy xác nhận tình trạng hôn nhân (01 bản chính) đối với bên không cư trú tại xã Hải Hậu.",
                    "Xuất trình giấy tờ tùy thân của hai bên."],
         time="Ngay trong ngày tiếp nhận hồ sơ; trường hợp cần xác minh điều kiện kết hôn thì không quá 05 ngày làm việc.",
         applicants="Công dân Việt Nam cư trú trong nước.",
         result="Giấy chứng nhận kết hôn (01 bản chính cho mỗi bên).",
         fee="Miễn lệ phí.",
         forms=["Tờ khai đăng ký kết hôn."],
         conditions="Nam từ đủ 20 tuổi trở lên, nữ từ đủ 18 tuổi trở lên; việc kết hôn do nam và nữ tự nguyện quyết định; không bị mất năng lực hành vi dân sự; không thuộc trường hợp cấm kết hôn theo Luật Hôn nhân và gia đình.",
         basis=["Luật Hôn nhân và gia đình năm 2014"] + HT_BASIS),
    dict(field="Hộ tịch", code="1.000656", name="Đăng ký khai tử",
         steps=["Người có yêu cầu nộp hồ sơ tại " + ONE_STOP + " nơi cư trú cuối cùng của người chết.",
                "Công chức tư pháp - hộ tịch ghi vào Sổ hộ tịch và trình Chủ tịch UBND xã cấp Trích lục khai tử."],
         channels=ONLINE,
         documents=["Tờ khai đăng ký khai tử theo mẫu (01 bản).",
                    "Giấy báo tử hoặc giấy tờ thay thế Giấy báo tử do cơ quan có thẩm quyền cấp (01 bản chính)."],
         time="Ngay trong ngày tiếp nhận hồ sơ; trường hợp cần xác minh thì không quá 03 ngày làm việc.",
         applicants="Vợ, chồng, con, cha, mẹ hoặc người thân thích khác của người chết có trách nhiệm đi đăng ký khai tử trong thời hạn 15 ngày kể từ ngày có người chết.",
         result="Trích lục khai tử (bản chính).",
         fee="Miễn lệ phí đăng ký khai tử đúng hạn. Đăng ký khai tử quá hạn: " + PROVINCE_FEE,
         forms=["Tờ khai đăng ký khai tử."],
         conditions="Không.", basis=HT_BASIS),
    dict(field="Hộ tịch", code="1.004873", name="Cấp Giấy xác nhận tình trạng hôn nhân",
         steps=["Người có yêu cầu nộp hồ sơ tại " + ONE_STOP + " nơi thường trú.",
                "Công chức tư pháp - hộ tịch kiểm tra, xác minh tình trạng hôn nhân và trình Chủ tịch UBND xã ký Giấy xác nhận tình trạng hôn nhân."],
         channels=ONLINE,
         documents=["Tờ khai cấp Giấy xác nhận tình trạng hôn nhân theo mẫu (01 bản).",
                    "Trường hợp đã có vợ, chồng nhưng đã ly hôn hoặc người kia đã chết thì xuất trình giấy tờ chứng minh."],
         time="03 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ.",
         applicants="Công dân Việt Nam cư trú trong nước có yêu cầu xác nhận tình trạng hôn nhân.",
         result="Giấy xác nhận tình trạng hôn nhân (có giá trị 06 tháng kể từ ngày cấp).",
         fee=PROVINCE_FEE,
         forms=["Tờ khai cấp Giấy xác nhận tình trạng hôn nhân."],
         conditions="Không.", basis=HT_BASIS),
    dict(field="Hộ tịch", code="1.004837", name="Đăng ký giám hộ",
         steps=["Người được cử làm người giám hộ nộp hồ sơ tại " + ONE_STOP + " nơi cư trú của người được giám hộ hoặc người giám hộ.",
                "Công chức tư pháp - hộ tịch ghi vào Sổ hộ tịch, cùng người đi đăng ký giám hộ ký vào Sổ và trình Chủ tịch UBND xã cấp Trích lục đăng ký giám hộ."],
         channels=ONLINE,
         documents=["Tờ khai đăng ký giám hộ theo mẫu (01 bản).",
                    "Văn bản cử người giám hộ theo quy định của Bộ luật Dân sự (01 bản chính)."],
         time="03 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ.",
         applicants="Người được cử làm người giám hộ.",
         result="Trích lục đăng ký giám hộ.",
         fee="Miễn lệ phí.",
         forms=["Tờ khai đăng ký giám hộ."],
         conditions="Người giám hộ đáp ứng điều kiện theo quy định của Bộ luật Dân sự.",
         basis=["Bộ luật Dân sự năm 2015"] + HT_BASIS),
    dict(field="Hộ tịch", code="1.004859", name="Thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân tộc",
         steps=["Người có yêu cầu nộp hồ sơ tại " + ONE_STOP + " nơi đã đăng ký hộ tịch trước đây hoặc nơi cư trú.",
                "Công chức tư pháp - hộ tịch kiểm tra; nếu việc thay đổi, cải chính, bổ sung là có cơ sở thì ghi vào Sổ hộ tịch và trình Chủ tịch UBND xã cấp Trích lục."],
         channels=ONLINE,
         documents=["Tờ khai đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân tộc theo mẫu (01 bản).",
                    "Giấy tờ làm căn cứ cho việc thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân tộc.",
                    "Văn bản đồng ý của cha, mẹ đối với việc thay đổi họ, chữ đệm, tên của người dưới 18 tuổi; nếu người đó từ đủ 09 tuổi trở lên thì phải có sự đồng ý của người đó."],
         time="03 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ; trường hợp cần xác minh thì kéo dài thêm không quá 03 ngày làm việc. Bổ sung thông tin hộ tịch: ngay trong ngày tiếp nhận hồ sơ.",
         applicants="Cá nhân có yêu cầu thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân tộc.",
         result="Trích lục thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân tộc.",
         fee=PROVINCE_FEE,
         forms=["Tờ khai đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân tộc."],
         conditions="Thay đổi họ, chữ đệm, tên khi có lý do chính đáng theo Bộ luật Dân sự; cải chính khi thông tin hộ tịch có sai sót do lỗi của công chức hoặc của người yêu cầu.",
         basis=["Bộ luật Dân sự năm 2015"] + HT_BASIS),
    dict(field="Hộ tịch", code="2.000635", name="Cấp bản sao Trích lục hộ tịch",
         steps=["Người có yêu cầu nộp tờ khai tại " + ONE_STOP + " nơi đang lưu giữ Sổ hộ tịch, hoặc nộp trực tuyến.",
                "Công chức tư pháp - hộ tịch kiểm tra Sổ hộ tịch và trình Chủ tịch UBND xã ký cấp bản sao trích lục hộ tịch."],
         channels=ONLINE,
         documents=["Tờ khai cấp bản sao trích lục hộ tịch theo mẫu (01 bản).",
                    "Văn bản ủy quyền theo quy định của pháp luật nếu ủy quyền thực hiện."],
         time=SAME_DAY_15H,
         applicants="Cá nhân, tổ chức có yêu cầu cấp bản sao trích lục về sự kiện hộ tịch đã đăng ký (khai sinh, kết hôn, khai tử ...).",
         result="Bản sao trích lục hộ tịch (bản sao Giấy khai sinh, bản sao trích lục kết hôn, khai tử ...).",
         fee="Phí cấp bản sao trích lục hộ tịch: 8.000 đồng/bản sao trích lục/sự kiện hộ tịch đã đăng ký.",
         forms=["Tờ khai cấp bản sao trích lục hộ tịch."],
         conditions="Không.", basis=HT_BASIS[:3] + ["Thông tư số 281/2016/TT-BTC"]),
    dict(field="Chứng thực", code="2.000815",
         name="Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền của Việt Nam cấp hoặc chứng nhận",
         steps=["Người yêu cầu chứng thực xuất trình bản chính và bản sao cần chứng thực tại " + ONE_STOP + ".",
                "Người thực hiện chứng thực kiểm tra, đối chiếu bản sao với bản chính, ghi lời chứng, ký, ghi rõ họ tên và đóng dấu."],
         channels=IN_PERSON_ONLY,
         documents=["Bản chính giấy tờ, văn bản làm cơ sở để chứng thực bản sao.",
                    "Bản sao cần chứng thực (nếu người yêu cầu không nộp bản sao thì cơ quan chụp từ bản chính)."],
         time="Trong ngày cơ quan tiếp nhận yêu cầu hoặc trong ngày làm việc tiếp theo nếu tiếp nhận yêu cầu sau 15 giờ.",
         applicants="Cá nhân, tổ chức.",
         result="Bản sao được chứng thực từ bản chính.",
         fee="2.000 đồng/trang; từ trang thứ ba trở lên thu 1.000 đồng/trang, tối đa không quá 200.000 đồng/bản.",
         forms=["Không."],
         conditions="Bản chính không thuộc các trường hợp không được dùng làm cơ sở để chứng thực bản sao (bị tẩy xóa, sửa chữa, hư hỏng, cũ nát không xác định được nội dung ...).",
         basis=CT_BASIS),
    dict(field="Chứng thực", code="2.000884",
         name="Chứng thực chữ ký trong các giấy tờ, văn bản (áp dụng cho cả trường hợp chứng thực điểm chỉ và trường hợp người yêu cầu chứng thực không thể ký, không thể điểm chỉ được)",
         steps=["Người yêu cầu chứng thực xuất trình giấy tờ tại " + ONE_STOP + ".",
                "Người yêu cầu chứng thực ký trước mặt người thực hiện chứng thực; người thực hiện chứng thực ghi lời chứng, ký, ghi rõ họ tên và đóng dấu."],
         channels=IN_PERSON_ONLY,
         documents=["Bản chính hoặc bản sao có chứng thực giấy tờ tùy thân còn giá trị sử dụng của người yêu cầu chứng thực.",
                    "Giấy tờ, văn bản mà mình sẽ ký."],
         time="Trong ngày cơ quan tiếp nhận yêu cầu hoặc trong ngày làm việc tiếp theo nếu tiếp nhận yêu cầu sau 15 giờ.",
         applicants="Cá nhân.",
         result="Giấy tờ, văn bản được chứng thực chữ ký.",
         fee="10.000 đồng/trường hợp (trường hợp được tính là một hoặc nhiều chữ ký trong một giấy tờ, văn bản).",
         forms=["Không."],
         conditions="Người yêu cầu chứng thực minh mẫn, nhận thức và làm chủ được hành vi của mình; ký trước mặt người thực hiện chứng thực.",
         basis=CT_BASIS),
]
LETTERS = [("a", "Trình tự thực hiện", "steps"), ("b", "Cách thức thực hiện", "channels"),
           ("c", "Thành phần, số lượng hồ sơ", "documents"), ("d", "Thời hạn giải quyết", "time"),
           ("đ", "Đối tượng thực hiện thủ tục hành chính", "applicants"),
           ("e", "Cơ quan thực hiện thủ tục hành chính", "agency"),
           ("g", "Kết quả thực hiện thủ tục hành chính", "result"), ("h", "Phí, lệ phí", "fee"),
           ("i", "Tên mẫu đơn, mẫu tờ khai", "forms"),
           ("k", "Yêu cầu, điều kiện thực hiện thủ tục hành chính", "conditions"),
           ("l", "Căn cứ pháp lý của thủ tục hành chính", "basis")]


def _para(doc, text, bold=False, center=False, size=None, italic=False):
    p = doc.add_paragraph()
    r = p.add_run(text)
    r.bold = bold
    r.italic = italic
    if size:
        r.font.size = Pt(size)
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return p


def build(path: Path = OUT) -> Path:
    doc = docx.Document()
    _para(doc, "BẢN MẪU (SAMPLE) - Danh mục minh họa kèm theo phần mềm trợ lý ảo; xã thay tệp này bằng Quyết định "
               "công bố danh mục thủ tục hành chính của chính mình.", italic=True, size=10)
    _para(doc, "Phụ lục", bold=True, center=True)
    _para(doc, "DANH MỤC VÀ NỘI DUNG THỦ TỤC HÀNH CHÍNH THUỘC THẨM QUYỀN GIẢI QUYẾT CỦA UBND XÃ HẢI HẬU",
          bold=True, center=True)
    _para(doc, "(Ban hành kèm theo Quyết định số 00/QĐ-UBND-MAU ngày 01/01/2026 của Chủ tịch UBND xã Hải Hậu - bản mẫu)",
          italic=True, center=True)
    doc.add_heading("PHẦN I. DANH MỤC THỦ TỤC HÀNH CHÍNH", level=2)
    head = ["STT", "Mã TTHC", "Tên thủ tục hành chính", "Thời hạn giải quyết", "Địa điểm thực hiện",
            "Phí, lệ phí", "Căn cứ pháp lý"]
    groups = [("I", "LĨNH VỰC HỘ TỊCH"), ("II", "LĨNH VỰC CHỨNG THỰC")]
    n_rows = 1 + len(PROCS) + len(groups)
    t = doc.add_table(rows=n_rows, cols=len(head))
    t.style = "Table Grid"
    for j, h in enumerate(head):
        t.cell(0, j).text = h
        for r in t.cell(0, j).paragraphs[0].runs:
            r.bold = True
    row = 1
    cur = None
    n = 0
    for p in PROCS:
        g = 0 if p["field"] == "Hộ tịch" else 1
        if g != cur:
            cur = g
            a = t.cell(row, 0).merge(t.cell(row, len(head) - 1))  # a group row spans the table
            a.text = f"{groups[g][0]}. {groups[g][1]}"
            for r in a.paragraphs[0].runs:
                r.bold = True
            row += 1
        n += 1
        cells = [str(n), p["code"], p["name"], p["time"], ONE_STOP, p["fee"], "; ".join(p["basis"]) + "."]
        for j, v in enumerate(cells):
            t.cell(row, j).text = v
        row += 1
    doc.add_paragraph()
    doc.add_heading("PHẦN II. NỘI DUNG CỤ THỂ CỦA TỪNG THỦ TỤC HÀNH CHÍNH", level=2)
    cur = None
    n = 0
    for p in PROCS:
        g = 0 if p["field"] == "Hộ tịch" else 1
        if g != cur:
            cur = g
            _para(doc, f"{groups[g][0]}. {groups[g][1]}", bold=True)
        n += 1
        _para(doc, f"{n}. Thủ tục {p['name'][0].lower() + p['name'][1:]} (mã {p['code']})", bold=True)
        for letter, label, key in LETTERS:
            _para(doc, f"{letter}) {label}:", italic=True)
            if key == "agency":
                vals = [UBND + "."]
            elif key == "basis":
                vals = [v + "." for v in p["basis"]]
            else:
                v = p[key]
                vals = v if isinstance(v, list) else [v]
            for v in vals:
                _para(doc, "- " + v)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


if __name__ == "__main__":
    print(build())
