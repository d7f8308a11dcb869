"""The chat UI in a real browser: Debian's headless Chromium driven through selenium,
against the real app over the sample index with the extractive generator."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from embeddings import build_index
from qa import Settings
from web import create_app

CHROMEDRIVER = "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (shutil.which("chromium") and os.path.exists(CHROMEDRIVER)),
    reason="Debian chromium is not installed: apt-get install -y chromium chromium-driver")

ROOT = Path(__file__).resolve().parent.parent
INJECTED = '<script>window.pwned=1</script><img src="x" onerror="window.pwned=2">'


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1500,1000",
                 f"--user-data-dir={tmp_path / 'chrome-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, condition, timeout: float = 120):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)


def css(driver, selector: str) -> list:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait(driver, lambda d: css(d, "#pilcrow-chat button.example"), 60)
    # Remember whether a not-yet-verified draft was ever on screen, however briefly.
    driver.execute_script("""
        new MutationObserver(() => {
          if (document.querySelector('#pilcrow-chat .pdraft')) window.pilcrowSawDraft = true;
        }).observe(document.body, {childList: true, subtree: true});""")


def ask(driver, question: str) -> None:
    box = css(driver, "#pilcrow-question textarea")[0]
    box.send_keys(question)
    css(driver, "#pilcrow-ask")[0].click()


def final_message(driver, selector: str = ".panswer, .pabstain"):
    return wait(driver, lambda d: css(d, f"#pilcrow-chat {selector}"))[-1]


def test_example_question_streams_an_answer_and_a_chip_opens_the_cited_paragraph(
        app_url, browser, tmp_path):
    open_page(browser, app_url)
    example = next(b for b in css(browser, "#pilcrow-chat button.example")
                   if "Zhejiang" in b.text)
    example.click()
    answer = final_message(browser, ".panswer")
    assert browser.execute_script("return window.pilcrowSawDraft") is True

    chips = answer.find_elements("css selector", ".pbody a.pcite")
    assert chips, answer.get_attribute("innerHTML")
    assert answer.find_elements("css selector", ".pevidence li.pev")
    dropped = [t for t in css(browser, "#pilcrow-chat .thought-group .title")
               if t.text.startswith("What the verifier dropped")]
    assert dropped, "the 'what the verifier dropped' section is missing"
    assert not css(browser, "#pilcrow-chat .pdropped"), "it should start collapsed"
    dropped[-1].click()
    wait(browser, lambda d: css(d, "#pilcrow-chat .pdropped"), 10)

    cable_id, n = re.fullmatch(r"(\w+) ¶(\d+)", chips[0].text).groups()
    chips[0].click()
    cited = wait(browser, lambda d: css(d, "#pilcrow-cable .pcited"), 30)[0]
    assert css(browser, "#pilcrow-cable .pcable-id")[0].text == cable_id
    assert cited.get_attribute("data-n") == n and cited.text.startswith(f"¶{n}")
    assert cited.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
    wait(browser, lambda d: d.execute_script("""
        const p = document.getElementById('pcited').getBoundingClientRect();
        const box = document.getElementById('pilcrow-cable').getBoundingClientRect();
        return p.top >= box.top - 1 && p.bottom <= box.bottom + 1 && p.height > 0;"""), 10)
    header = css(browser, "#pilcrow-cable .pheader")[0].text
    assert all(label in header for label in ("Date", "Origin", "Classification", "Subject"))
    shot = tmp_path / "chip-opened.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def test_a_question_the_cables_cannot_answer_looks_like_an_abstention(app_url, browser):
    open_page(browser, app_url)
    ask(browser, "What is the best recipe for chocolate chip cookies?")
    message = final_message(browser)
    assert "pabstain" in message.get_attribute("class")
    assert message.find_element("css selector", ".ptitle").text == "Not in these cables"
    assert message.find_elements("css selector", "li.pev a.pcite"), "closest paragraphs missing"


def test_html_in_a_cable_is_shown_as_text_and_never_runs(browser, serve, tmp_path):
    seed = (ROOT / "data/cables/000_fdada65da582d8ab.txt").read_text()
    assert "¶1. (SBU) Summary:" in seed
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hostile.txt").write_text(seed.replace("¶1. (SBU) Summary:",
                                                     f"¶1. (SBU) {INJECTED} Summary:"))
    build_index([str(corpus)], str(tmp_path / "index"))
    settings = Settings.from_env(index_dir=str(tmp_path / "index"), generator="extractive")
    with serve(create_app(settings)) as url:
        open_page(browser, url)
        ask(browser, "How are Guangxi authorities and NGOs preparing for migrant workers "
                     "who stay after the Chinese New Year?")
        final_message(browser, ".panswer")
        next(c for c in css(browser, "#pilcrow-chat a.pcite")).click()
        wait(browser, lambda d: css(d, "#pilcrow-cable .ppara"), 30)
        first = css(browser, "#pilcrow-cable .ppara[data-n='1']")[0]
        assert INJECTED in first.text
        assert not css(browser, "#pilcrow-cable script, #pilcrow-cable img")
        assert browser.execute_script("return window.pwned") is None
        browser.save_screenshot(str(tmp_path / "hostile-cable.png"))
