"""The officer's review page in a real browser: Debian's headless Chromium (/usr/bin/chromium, driven through
/usr/bin/chromedriver by Selenium; installed by `make test`, nothing downloaded at run time) against
`python -m bot web` running as its own process over a copy of the session's index of the sample corpus.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from correction_case import lead_line, pick_case
from web import chromium

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-web-token-" + "x" * 16
OFFICER = "Nguyễn Thị Lan"
SEARCH = "ban hành chưa đúng quy định"  # a task of the Chơn Thành plan, for the tests that need any one task


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path, corpus: Path, embedder: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_", "ZALO_"))}
    env.update(BOT_DATA_DIR=str(data_dir), BOT_CORPUS_DIR=str(corpus), BOT_EMBEDDER=embedder,
               PYTHONPATH=str(ROOT), **extra)
    return env


@pytest.fixture(scope="module")
def site(built_index, tmp_path_factory, settings_factory):
    """`python -m bot web` on a free port over a private copy of the index; yields (base url, settings)."""
    missing = chromium.available()
    assert not missing, (f"the browser tests need Debian's Chromium and chromedriver ({missing} missing): "
                         "run `make test`, or scripts/install-chromium.sh")
    home = tmp_path_factory.mktemp("web")
    data, corpus = home / "data", home / "corpus"
    shutil.copytree(built_index.data_dir, data)
    shutil.copytree(ROOT / "corpus", corpus)
    settings = settings_factory(data, corpus)
    port = _free_port()
    env = _env(data, corpus, built_index.embedder, BOT_WEB_TOKEN=TOKEN)
    # cwd: a scratch dir, so a developer's .env is not read
    proc = subprocess.Popen([sys.executable, "-m", "bot", "web", "--port", str(port)], cwd=home, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/dang-nhap", timeout=1)
            break
        except httpx.TransportError:
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "the review page did not start"
            time.sleep(0.2)
    yield base, settings, env, home
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(site, downloads):
    drv = chromium.driver(1280, 900, download_dir=downloads)
    drv.implicitly_wait(0)
    yield drv
    drv.quit()


def by_id(drv, element_id: str):
    return drv.find_element("id", element_id)


def css(drv, selector: str):
    return drv.find_elements("css selector", selector)


def submit(drv, element) -> None:
    """Click (or submit) and wait for the next page: a click does not wait for the navigation it starts."""
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    page = drv.find_element("tag name", "html")
    if element.tag_name in ("button", "a"):
        element.click()
    else:
        element.submit()
    WebDriverWait(drv, 20).until(EC.staleness_of(page))


def sign_in(drv, base: str, name: str = OFFICER, token: str = TOKEN, path: str = "/") -> None:
    drv.delete_all_cookies()
    drv.get(base + path)
    by_id(drv, "ten").send_keys(name)
    by_id(drv, "ma").send_keys(token)
    submit(drv, by_id(drv, "ma"))


def db_row(settings, task_id: str) -> dict | None:
    from index import store

    rows = list(store.open_db(settings.db_path).query("select * from tasks where id = ?", [task_id]))
    return dict(rows[0]) if rows else None


def task_id_of_question(settings) -> str:
    from index import store

    rows = list(store.open_db(settings.db_path).query("select id from tasks where title like ?", [f"%{SEARCH}%"]))
    assert len(rows) == 1
    return rows[0]["id"]


# ------------------------------------------------------------------------------------------------ sign-in

def test_a_wrong_token_is_refused_and_every_page_needs_sign_in(site, browser):
    base, settings, *_ = site
    browser.delete_all_cookies()
    for path in ("/", "/nhiem-vu", "/nhac-han", "/cau-hoi", "/nhiem-vu.xlsx"):
        browser.get(base + path)
        assert "/dang-nhap" in browser.current_url, path
        assert css(browser, "#ma"), path
    sign_in(browser, base, token="wrong-token-wrong-token")
    assert "Mã truy cập không đúng" in by_id(browser, "loi-dang-nhap").text
    assert by_id(browser, "ten").get_attribute("value") == OFFICER  # what was typed is kept
    browser.get(base + "/nhiem-vu")
    assert "/dang-nhap" in browser.current_url
    # scripts: a wrong Bearer token is refused too, the right one is let in
    assert httpx.get(base + "/nhiem-vu", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert httpx.get(base + "/nhiem-vu", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_sign_in_by_keyboard_and_the_session_cookie(site, browser):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    base, *_ = site
    browser.delete_all_cookies()
    browser.get(base + "/nhiem-vu")
    body = browser.find_element("tag name", "body")
    body.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("class") == "skip"  # first stop: skip to content
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "ten"
    browser.switch_to.active_element.send_keys(OFFICER, Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "ma"
    page = browser.find_element("tag name", "html")
    browser.switch_to.active_element.send_keys(TOKEN, Keys.ENTER)
    WebDriverWait(browser, 20).until(EC.staleness_of(page))
    assert browser.current_url.endswith("/nhiem-vu")  # back where the officer was going
    assert OFFICER in css(browser, ".who")[0].text
    cookie = browser.get_cookie("cchc_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["secure"] is False
    assert browser.execute_script("return document.cookie") == ""  # not readable by scripts


# ------------------------------------------------------------------------------------------------ the flow

def test_filter_correct_reindex_then_the_chat_answers_with_the_correction(site, browser, downloads, answerer):
    from selenium.webdriver.support.ui import Select

    from bot.app import build_answerer
    from handlers.render import display_quote
    from index import store

    base, settings, env, home = site
    case = pick_case(answerer, store.open_db(settings.db_path))
    tid = case.task_id
    sign_in(browser, base, path="/nhiem-vu")

    # Filter: locality + words of the task; then "lead inferred" alone
    Select(by_id(browser, "dia_ban")).select_by_visible_text(case.locality)
    by_id(browser, "tim").send_keys(case.title)
    submit(browser, by_id(browser, "tim"))
    rows = css(browser, "table.tasks tbody tr")
    assert f"t-{tid}" in [r.get_attribute("id") for r in rows]
    assert all(case.locality in r.text for r in rows)
    row = by_id(browser, f"t-{tid}")
    assert case.old_lead in row.find_element("css selector", "td.lead").text
    quote = row.find_element("css selector", "blockquote.quote").text  # the quoted source line, as the chat quotes it
    assert quote and quote.split() == display_quote(store.row_to_task(db_row(settings, tid))).split()
    browser.get(base + "/nhiem-vu")
    by_id(browser, "suy_ra").click()
    submit(browser, by_id(browser, "suy_ra"))
    inferred = [t for t in store.load_tasks(store.open_db(settings.db_path)) if t.lead_inferred]
    assert inferred and str(len(inferred)) == by_id(browser, "ket-qua").find_element("tag name", "strong").text
    shown = css(browser, "table.tasks tbody tr")
    assert shown and all(r.find_elements("css selector", ".badge.inferred") for r in shown)

    # Correct the lead unit (and the coordinators) of the task
    browser.get(base + "/nhiem-vu?" + str(httpx.QueryParams({"dia_ban": case.locality, "tim": case.title})))
    submit(browser, css(browser, f"#t-{tid} a.button")[0])
    assert f"/nhiem-vu/{tid}" in browser.current_url
    for el in css(browser, "main input:not([type=hidden]), main textarea, main select"):
        assert browser.execute_script("return arguments[0].labels.length", el) > 0, el.get_attribute("name")
    lead = by_id(browser, "chu_tri")
    assert case.old_lead in lead.get_attribute("value").splitlines()
    lead.clear()
    lead.send_keys(case.new_lead)
    coord = by_id(browser, "phoi_hop")
    coord.clear()
    coord.send_keys(case.old_lead)
    submit(browser, css(browser, "form.edit button[type=submit]")[0])

    assert "Đã lưu hiệu chỉnh" in css(browser, ".flash")[0].text
    row = by_id(browser, f"t-{tid}")  # back on the filtered list, at the row
    assert case.new_lead in row.find_element("css selector", "td.lead").text
    assert row.find_elements("css selector", ".badge.fixed")
    stored = db_row(settings, tid)
    assert json.loads(stored["lead"]) == [case.new_lead] and stored["corrected_by"] == OFFICER

    # The plan is edited (a line added) and re-indexed, in a separate process as an officer would
    plan = next((home / "corpus").rglob(case.document))
    plan.write_text(plan.read_text(encoding="utf-8").rstrip("\n") + "\n\nGhi chú: bản cập nhật của kế hoạch.\n",
                    encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "bot", "index", "--json", "--no-progress"], cwd=home, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert case.document in json.loads(out.stdout)["changes"]  # re-extracted, not kept as it was

    # The correction is kept, on the page and in the table
    browser.get(base + f"/nhiem-vu/{tid}")
    assert by_id(browser, "chu_tri").get_attribute("value") == case.new_lead
    assert OFFICER in css(browser, ".badge.fixed")[0].text
    assert json.loads(db_row(settings, tid)["lead"]) == [case.new_lead]

    # ... and the chat answers with it
    answer = build_answerer(settings).ask(case.question)
    assert answer.tasks[0].id == tid
    assert case.new_lead in lead_line(answer.text) and case.old_lead not in lead_line(answer.text)
    assert "đã được cán bộ hiệu chỉnh ngày" in answer.text

    # Export the filtered view and read it back
    browser.get(base + "/nhiem-vu?" + str(httpx.QueryParams({"dia_ban": case.locality})))
    count = int(by_id(browser, "ket-qua").find_element("tag name", "strong").text)
    for f in downloads.glob("*"):
        f.unlink()
    by_id(browser, "tai-xlsx").click()
    deadline = time.monotonic() + 20
    while not (files := [f for f in downloads.glob("*.xlsx")]) or list(downloads.glob("*.crdownload")):
        assert time.monotonic() < deadline, list(downloads.iterdir())
        time.sleep(0.2)
    from openpyxl import load_workbook

    ws = load_workbook(files[0]).active
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]
    assert len(rows) == count > 1
    assert {r["Địa bàn"] for r in rows} == {case.locality}
    [mine] = [r for r in rows if r["Mã nhiệm vụ"] == tid]
    assert mine["Chủ trì"] == case.new_lead and mine["Phối hợp"] == case.old_lead
    assert mine["Hiệu chỉnh bởi"] == OFFICER and mine["Dòng trích dẫn"] == db_row(settings, tid)["quote"]


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(site, browser):
    base, settings, *_ = site
    task_id = task_id_of_question(settings)
    before = db_row(settings, task_id)
    sign_in(browser, base, path=f"/nhiem-vu/{task_id}")
    for how in ("remove", "wrong"):
        browser.get(base + f"/nhiem-vu/{task_id}")
        by_id(browser, "chu_tri").clear()
        by_id(browser, "chu_tri").send_keys("Phòng Văn hóa - Xã hội")
        browser.execute_script(
            "const i = document.querySelector('form.edit input[name=csrf]');"
            "if (arguments[0] === 'remove') { i.remove(); } else { i.value = 'wrong-' + i.value; }", how)
        submit(browser, css(browser, "form.edit button[type=submit]")[0])
        assert "mã chống giả mạo" in css(browser, "p.error")[0].text, how
    assert db_row(settings, task_id) == before
    # the same from a script that holds the session cookie but no CSRF token
    cookie = {"cchc_session": browser.get_cookie("cchc_session")["value"]}
    r = httpx.post(base + f"/nhiem-vu/{task_id}", cookies=cookie, data={"chu_tri": "X", "tiep": "/nhiem-vu"})
    assert r.status_code == 403
    r = httpx.post(base + "/dang-xuat", cookies=cookie, data={"csrf": "nope"})
    assert r.status_code == 403
    assert db_row(settings, task_id) == before
    # with the page's own token it goes through (the check is not refusing everything)
    browser.get(base + f"/nhiem-vu/{task_id}")
    by_id(browser, "thoi_han").clear()
    by_id(browser, "thoi_han").send_keys("Trước ngày 15/12/2026")
    submit(browser, css(browser, "form.edit button[type=submit]")[0])
    assert "Đã lưu hiệu chỉnh" in css(browser, ".flash")[0].text
    assert db_row(settings, task_id)["due"] == "2026-12-15"


def test_pages_fit_a_360_px_phone(site, browser):
    base, settings, *_ = site
    sign_in(browser, base)
    try:
        for path in ("/", "/nhiem-vu", "/nhac-han", "/cau-hoi", f"/nhiem-vu/{task_id_of_question(settings)}"):
            browser.get(base + path)
            chromium.set_viewport(browser, 360, 740, mobile=True)
            width = browser.execute_script("return document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
            size = browser.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
            assert size >= 16, (path, size)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_web_command_refuses_to_start_without_a_usable_token(site):
    _, settings, env, home = site
    for token, reason in (("", "Chưa đặt BOT_WEB_TOKEN"), ("short", "quá ngắn")):
        out = subprocess.run([sys.executable, "-m", "bot", "web", "--port", str(_free_port())], cwd=home,
                             env={**env, "BOT_WEB_TOKEN": token}, capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and reason in out.stderr, out.stderr
