"""Maintained vocabulary for procedure (TTHC) questions.

Two small lists, both written in folded form (lower case, no diacritics, as ``textnorm.fold`` gives):

- ``SYNONYMS``: folk / colloquial names -> the catalogue's own vocabulary. Applied to the folded question
  (longest phrase first, whole words only) before it is matched against procedure names, so "xin giay xac
  nhan doc than" is matched as "xac nhan tinh trang hon nhan". Keep entries generic (the way people talk),
  never copied from test questions; an entry must not steal a neighbouring procedure (e.g. "ban sao giay khai
  sinh" is the copy-of-extract procedure, not birth registration, so it is listed before "giay khai sinh").
- ``FIELD_CUES``: cue phrases for the field a question asks about (documents, time, fee, where, ...), in
  priority order. The cue phrases are also removed from the question before name matching.

Everything here is plain data; ``handlers.procedures`` does the matching.
"""
from __future__ import annotations

import re

from .textnorm import fold

# (folk phrase, catalogue phrase). Folded; regex-free; matched on word boundaries.
SYNONYMS: list[tuple[str, str]] = [
    # --- civil status copies / extracts (before the birth-registration entries that share words)
    ("ban sao giay khai sinh", "cap ban sao trich luc ho tich"),
    ("sao giay khai sinh", "cap ban sao trich luc ho tich"),
    ("trich luc giay khai sinh", "cap ban sao trich luc ho tich"),
    ("trich luc khai sinh", "cap ban sao trich luc ho tich khai sinh"),
    ("trich luc ket hon", "cap ban sao trich luc ho tich ket hon"),
    ("trich luc khai tu", "cap ban sao trich luc ho tich khai tu"),
    ("ban sao trich luc", "cap ban sao trich luc ho tich"),
    ("xin trich luc", "cap ban sao trich luc ho tich"),
    # --- birth
    ("lam lai giay khai sinh", "dang ky lai khai sinh"),
    ("cap lai giay khai sinh", "dang ky lai khai sinh"),
    ("xin lai giay khai sinh", "dang ky lai khai sinh"),
    ("lam lai khai sinh", "dang ky lai khai sinh"),
    ("khai sinh lai", "dang ky lai khai sinh"),
    ("mat giay khai sinh", "dang ky lai khai sinh"),
    ("lam giay khai sinh", "dang ky khai sinh"),
    ("lam khai sinh", "dang ky khai sinh"),
    ("khai sinh cho con", "dang ky khai sinh"),
    ("khai sinh cho be", "dang ky khai sinh"),
    ("khai sinh cho tre", "dang ky khai sinh"),
    ("khai sinh cho chau", "dang ky khai sinh"),
    ("giay khai sinh", "khai sinh"),
    ("lam giay khai tu", "dang ky khai tu"),
    ("khai sinh tre", "dang ky khai sinh"),
    ("nhan con", "nhan cha, me, con"),
    ("nhan cha cho con", "nhan cha, me, con"),
    ("nhan me cho con", "nhan cha, me, con"),
    ("nhan cha", "nhan cha, me, con"),
    ("nhan me", "nhan cha, me, con"),
    # --- marital status
    ("giay xac nhan doc than", "xac nhan tinh trang hon nhan"),
    ("xac nhan doc than", "xac nhan tinh trang hon nhan"),
    ("giay doc than", "xac nhan tinh trang hon nhan"),
    ("chung nhan doc than", "xac nhan tinh trang hon nhan"),
    ("doc than", "tinh trang hon nhan"),
    ("chua vo", "tinh trang hon nhan"),
    ("chua chong", "tinh trang hon nhan"),
    ("chua ket hon", "tinh trang hon nhan"),
    # --- marriage
    ("dang ky ket hon lai", "dang ky lai ket hon"),
    ("lam lai giay ket hon", "dang ky lai ket hon"),
    ("giay dang ky ket hon", "dang ky ket hon"),
    ("giay chung nhan ket hon", "dang ky ket hon"),
    ("dang ky cuoi", "dang ky ket hon"),
    ("lam giay ket hon", "dang ky ket hon"),
    ("lay vo", "ket hon"),
    ("lay chong", "ket hon"),
    ("cuoi vo", "ket hon"),
    ("cuoi chong", "ket hon"),
    ("dam cuoi", "ket hon"),
    ("cuoi hoi", "ket hon"),
    ("giay cuoi", "ket hon"),
    # --- death
    ("bao tu", "khai tu"),
    ("giay chung tu", "khai tu"),
    ("khai tu cho", "khai tu"),
    ("nguoi nha mat", "khai tu"),
    ("nguoi than mat", "khai tu"),
    ("qua doi", "khai tu"),
    # --- certification (commune "chung thuc"; people say cong chung / sao y / photo cong chung)
    ("cong chung ban sao", "chung thuc ban sao"),
    ("photo cong chung", "chung thuc ban sao"),
    ("cong chung giay to", "chung thuc ban sao"),
    ("sao y ban chinh", "chung thuc ban sao"),
    ("sao y", "chung thuc ban sao"),
    ("cong chung chu ky", "chung thuc chu ky"),
    ("xac nhan chu ky", "chung thuc chu ky"),
    ("ky ten", "chu ky"),
    ("chu ki", "chu ky"),
    ("cong chung hop dong", "chung thuc hop dong"),
    ("cong chung", "chung thuc"),
    # --- guardianship, changes and corrections of civil status
    ("nguoi giam ho", "giam ho"),
    ("doi ten", "thay doi ho tich"),
    ("sua ten", "thay doi cai chinh ho tich"),
    ("thay doi ten", "thay doi ho tich"),
    ("doi ho", "thay doi ho tich"),
    ("sua sai", "cai chinh ho tich"),
    ("sai ten", "cai chinh ho tich"),
    ("sai ngay sinh", "cai chinh ho tich"),
    ("sai thong tin", "cai chinh ho tich"),
    ("sua thong tin", "cai chinh ho tich"),
    ("sua giay khai sinh", "cai chinh ho tich"),
    ("doi dan toc", "xac dinh lai dan toc"),
    ("bo sung thong tin", "bo sung thong tin ho tich"),
    # --- land: the red / pink book is the land-use right certificate
    ("lam lai so do", "cap lai giay chung nhan"),
    ("cap lai so do", "cap lai giay chung nhan"),
    ("xin lai so do", "cap lai giay chung nhan"),
    ("mat so do", "cap lai giay chung nhan do bi mat"),
    ("so do bi mat", "giay chung nhan do bi mat"),
    ("lam so do", "cap giay chung nhan quyen su dung dat"),
    ("xin so do", "cap giay chung nhan quyen su dung dat"),
    ("cap so do", "cap giay chung nhan quyen su dung dat"),
    ("sua so do", "dinh chinh giay chung nhan"),
    ("so do bi sai", "dinh chinh giay chung nhan co sai sot"),
    ("sai so do", "dinh chinh giay chung nhan co sai sot"),
    ("so do", "giay chung nhan"),
    ("so hong", "giay chung nhan"),
    ("bia do", "giay chung nhan"),
    ("giay to nha dat", "giay chung nhan"),
    ("len tho cu", "chuyen muc dich su dung dat"),
    ("chuyen len dat o", "chuyen muc dich su dung dat"),
    ("chuyen doi muc dich", "chuyen muc dich"),
    ("chuyen dat vuon", "chuyen muc dich su dung dat"),
    ("tranh chap dat", "tranh chap dat dai"),
    ("hien dat", "tang cho quyen su dung dat"),
    ("cho dat lam duong", "tang cho quyen su dung dat mo rong duong giao thong"),
    ("sang ten", "dang ky bien dong"),
    # --- residence: the household book was replaced by the residence database
    ("nhap ho khau", "dang ky thuong tru"),
    ("nhap khau cho", "dang ky thuong tru cho"),
    ("chuyen ho khau", "dang ky thuong tru"),
    ("lam ho khau", "dang ky thuong tru"),
    ("dang ky ho khau", "dang ky thuong tru"),
    ("so ho khau", "thuong tru"),
    ("ho khau", "thuong tru"),
    ("tach khau", "tach ho"),
    ("cat khau", "xoa dang ky thuong tru"),
    ("kt3", "dang ky tam tru"),
    ("dang ky tam tru cho nguoi thue tro", "dang ky tam tru"),
    ("bao tam vang", "khai bao tam vang"),
    ("xac nhan cu tru", "xac nhan thong tin ve cu tru"),
    ("giay xac nhan noi o", "xac nhan thong tin ve cu tru"),
    ("ct07", "xac nhan thong tin ve cu tru"),
    # --- construction
    ("xin giay phep", "cap giay phep"),
    ("lam giay phep", "cap giay phep"),
    ("giay phep xay nha", "giay phep xay dung nha o rieng le"),
    ("xin phep xay nha", "cap giay phep xay dung nha o rieng le"),
    ("xin phep xay dung", "cap giay phep xay dung"),
    ("xay nha", "xay dung nha o rieng le"),
    ("sua nha", "sua chua cai tao nha o rieng le"),
    ("gia han giay phep", "gia han giay phep xay dung"),
    ("bien so nha", "giay chung nhan so nha"),
    ("so nha", "giay chung nhan so nha"),
    # --- spelling variants people type
    ("dang ki", "dang ky"),
    ("giay to tuy than", "giay to tuy than"),
]

# Field-intent cue phrases (folded). Order is priority: the first field whose cue is present wins when only
# one field can be answered. A question may carry several fields ("can giay to gi va mat bao lau").
FIELD_CUES: dict[str, list[str]] = {
    "code": ["ma thu tuc", "ma tthc", "ma so thu tuc", "ma so", "ma ho so thu tuc", "ma cua thu tuc", "ma la gi",
             "ma bao nhieu", "ma gi"],
    "forms": ["mau don", "mau to khai", "to khai mau", "bieu mau", "mau nao", "mau gi", "ten mau", "mau to"],
    "legal_basis": ["can cu phap ly", "can cu", "van ban phap luat", "theo luat nao", "nghi dinh nao",
                    "quy dinh o dau", "van ban nao quy dinh", "co so phap ly", "luat nao"],
    "conditions": ["dieu kien", "yeu cau gi", "can dap ung", "bao nhieu tuoi", "du tuoi", "may tuoi"],
    "fee": ["bao nhieu tien", "het bao nhieu", "mat bao nhieu", "ton bao nhieu", "le phi", "tinh phi", "thu phi",
            "phi the nao", "phi ra sao", "phi bao nhieu", "muc phi", "phi", "mat tien",
            "ton tien", "chi phi", "mien phi", "tien", "dong tien", "nop tien", "gia bao nhieu"],
    "documents": ["giay to gi", "giay to nao", "nhung giay to", "can giay to", "giay to can", "can nhung gi",
                  "can gi", "can mang", "mang theo", "mang gi", "chuan bi gi", "chuan bi nhung", "ho so gom",
                  "ho so can", "can ho so", "ho so gi", "ho so nhu the nao", "thanh phan ho so", "giay to",
                  "so luong ho so", "bo ho so", "ho so", "van ban gi", "giay gi", "can them", "nop gi",
                  "nop nhung gi", "can nop"],
    "time": ["bao lau", "may ngay", "bao nhieu ngay", "bao gio co", "bao gio nhan", "khi nao co", "khi nao nhan",
             "thoi han", "thoi gian giai quyet", "thoi gian", "lau khong", "mat may", "lau", "may gio",
             "ngay lam viec"],
    "where": ["o dau", "noi nao", "cho nao", "dia diem", "nop dau", "nop o", "lam o", "toi dau", "den dau",
              "co quan nao", "truc tuyen", "online", "qua mang", "buu dien", "buu chinh", "dich vu cong",
              "cach thuc", "nop the nao", "nop nhu the nao", "nop ho so"],
    "steps": ["trinh tu", "cac buoc", "quy trinh", "lam the nao", "lam nhu the nao", "lam sao", "the nao",
              "nhu the nao", "huong dan", "cach lam"],
    "applicants": ["ai duoc", "ai co the", "ai phai", "ai co trach nhiem", "doi tuong", "nguoi nao", "ai di",
                   "ai lam", "ai dang ky", "ai nop"],
    "result": ["ket qua", "nhan duoc gi", "duoc cap gi", "nhan lai gi", "duoc nhan gi", "cap giay gi",
               "duoc cap giay", "nhan giay gi", "nhan duoc giay", "nhan duoc van ban", "duoc giai quyet ra sao"],
    "agency": ["ai giai quyet", "ai cap", "co quan giai quyet", "co quan thuc hien", "ai ky", "tham quyen"],
    "validity": ["gia tri bao lau", "gia tri trong bao lau", "co hieu luc", "hieu luc bao lau",
                 "dung duoc bao lau"],
    "penalty": ["bi phat", "xu phat", "phat bao nhieu", "muc phat", "nop phat", "bi xu ly"],
}

# The submission channel a question is about (fees and times often differ between them).
CHANNEL_CUES: dict[str, list[str]] = {
    "online": ["truc tuyen", "online", "qua mang", "dich vu cong", "cong dich vu", "vneid", "tren mang",
               "qua internet"],
    "post": ["buu chinh", "buu dien", "gui thu"],
    "in_person": ["truc tiep", "den tan noi", "tai tru so", "tai bo phan mot cua"],
}

# Weak cues: they name a field only when no other field cue is present ("nop ho so o dau" asks where,
# not for the documents; "mat bao lau" asks the time, not the fee).
WEAK_CUES = {"ho so", "giay to", "lau", "thoi gian", "tien", "phi", "nop ho so", "the nao", "nhu the nao",
             "lam o", "nop o", "trong ngay", "ngay lam viec", "doi tuong", "ket qua", "can gi", "huong dan",
             "co quan nao", "dich vu cong", "thoi han", "truc tuyen", "online", "qua mang", "buu dien",
             "buu chinh"}

# Cues that make a question a "rule" question (a deadline/obligation that the procedure text states),
# answered from the procedure's text rather than its processing time.
# (A duty needs a duty word: "trong thời hạn bao lâu" alone asks how long the office takes.)
RULE_CUES = ["phai dang ky", "phai lam", "phai khai", "phai di", "cham nhat", "qua han", "han chot", "bi phat",
             "tre han", "phai nop", "phai bao", "phai thong bao", "phai gia han", "khi nao phai", "luc nao phai",
             "han cuoi", "truoc may gio", "truoc ngay nao"]

# Words that make a question procedural even without a known procedure name.
PROCEDURE_CUES = ["thu tuc", "ho so", "giay to", "le phi", "dang ky", "xin cap", "cap giay", "lam giay",
                  "xin giay", "chung thuc", "ho tich", "tthc", "mau don", "to khai", "cap lai", "lam the nao",
                  "nop", "lam", "giay phep", "xin phep", "cap doi", "bao lau", "bao nhieu tien", "mat phi"]

# Words that make a question about the reform plans (handled elsewhere) unless a procedure name is clearly
# matched: who leads a task, targets, plans.
PLAN_CUES = ["chu tri", "phoi hop", "ke hoach", "nhiem vu", "chi tieu", "cai cach", "cchc", "tham muu",
             "ty le", "muc tieu", "giai doan", "trien khai", "ra soat", "don gian hoa", "phu trach",
             "danh gia", "chi so", "muc do hai long", "tan suat", "to chuc bo may", "ngan sach", "lai suat",
             "le hoi", "cong khai", "niem yet", "don vi nao"]

# Function words and question phrasing dropped before name matching. Only words that carry no procedure
# meaning: prepositions that also occur inside names ("cho", "co", "tai") are dropped on the question side
# only, and the name side keeps its bigrams, so "dang ky khai sinh cho nguoi ..." still ranks by its
# distinctive words.
FILLER = {
    "a", "ah", "ak", "ad", "ban", "bay", "cho", "chi", "cua", "can", "co", "cac", "duoc", "di", "em", "gi",
    "hay", "hoi", "khong", "k", "ko", "la", "lam", "len", "ma", "minh", "muon", "nao", "nay", "nhe", "nhung",
    "nhieu", "nhi", "o", "oi", "roi", "sao", "se", "toi", "tai", "thi", "the", "va", "voi", "vay", "ve", "xem",
    "ne", "nha", "anh", "chu", "u", "da", "hoac", "neu", "nhu", "mot", "het", "mat", "ton", "giup", "luon", "vui",
    "long", "mong", "khi", "thu", "tuc", "tthc", "phuong", "xa", "tran", "huyen", "quan", "ubnd", "bao", "lau",
    "dau", "nop", "xin", "phai", "muon", "biet", "cho", "hoi", "vao", "ra", "cung", "can", "them", "nua",
    # when the asker goes or asks: context, not a procedure's name (kept where a name has the pair: "trích lục")
    "luc", "gio", "sang", "trua", "hom", "mai", "tuan", "sau",
    "dc", "duoc", "j", "vs", "ah", "uh", "nhi",
}

# Syllable spelling variants (i/y) unified on both sides of matching.
_IY = re.compile(r"^(k|l|m|s|t|h|qu|ng|n|v|d|b|ph|th|ch|tr|gi|r|x|c)y$")


def canon_token(tok: str) -> str:
    """'ky' and 'ki', 'ly' and 'li' ... spelled one way (y -> i after a consonant)."""
    m = _IY.match(tok)
    return tok[:-1] + "i" if m else tok


def folded_phrases(phrases: list[str]) -> list[str]:
    return [fold(p) for p in phrases]
