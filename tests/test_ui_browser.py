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


def tab(driver, name: str) -> None:
    next(b for b in css(driver, "button[role=tab]") if b.text == name).click()


def test_follow_up_copy_search_and_upload(browser, serve, sample_index_dir, tmp_path):
    """The researcher's workflow: ask, follow up (answered from the earlier answer's cable),
    copy the answer as Markdown, search a phrase and open a hit, upload cables and be
    answered from them. PILCROW_SCREENSHOTS=docs saves each step's screenshot there."""
    shots = Path(os.environ.get("PILCROW_SCREENSHOTS") or tmp_path)
    index = tmp_path / "index"
    shutil.copytree(sample_index_dir, index)
    settings = Settings.from_env(index_dir=str(index), generator="extractive")
    with serve(create_app(settings)) as url:
        open_page(browser, url)
        ask(browser, "What did Zhejiang officials say about hukou?")
        first = final_message(browser, ".panswer")
        assert {c.text.split(" ")[0] for c in first.find_elements("css selector", ".pbody a.pcite")} \
            == {"09SHANGHAI374"}
        ask(browser, "Which officials said that, and what figure did they give?")
        wait(browser, lambda d: len(css(d, "#pilcrow-chat .panswer")) == 2)
        answer = css(browser, "#pilcrow-chat .panswer")[-1]
        assert "09SHANGHAI374" in answer.find_element("css selector", ".pstandalone").text
        chips = answer.find_elements("css selector", ".pbody a.pcite")
        assert chips and {c.text.split(" ")[0] for c in chips} == {"09SHANGHAI374"}
        # The newest answer is in view inside the chat.
        assert browser.execute_script("""
            const a = arguments[0].getBoundingClientRect();
            const box = document.getElementById('pilcrow-chat').getBoundingClientRect();
            return a.bottom > box.top && a.top < box.bottom;""", answer)
        # For the picture: the answer's top (the question as answered, then the text).
        browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", answer)
        browser.save_screenshot(str(shots / "followup.png"))

        answer.find_element("css selector", "a.pcopy").click()
        wait(browser, lambda d: d.execute_script("return window.pilcrowCopied"), 10)
        markdown = browser.execute_script("return window.pilcrowCopied")
        assert markdown.startswith("**Q:** Which officials said that")
        assert "[^1]: Consulate Shanghai to Secretary of State, “NEW ZHEJIANG MIGRANT POLICY" in markdown

        tab(browser, "Search")
        query = wait(browser, lambda d: [e for e in css(d, "#pilcrow-query input, #pilcrow-query textarea")
                                         if e.is_displayed()], 10)[0]
        query.send_keys('"84 percent"')
        css(browser, "#pilcrow-search")[0].click()
        hit = wait(browser, lambda d: css(d, "#pilcrow-results li.phit"), 30)[0]
        chip = hit.find_element("css selector", "a.pcite")
        assert chip.text == "09SHANGHAI374 ¶9"
        assert hit.find_element("css selector", "mark").text == "84 percent"
        assert "origin" in css(browser, "#pilcrow-results .pfacets")[0].text.lower()
        chip.click()
        cited = wait(browser, lambda d: css(d, "#pilcrow-cable .pcited"), 30)[0]
        assert cited.get_attribute("data-n") == "9" and "84 percent" in cited.text
        browser.save_screenshot(str(shots / "search.png"))

        tab(browser, "Collection")
        upload = wait(browser, lambda d: css(d, "#pilcrow-upload input[type=file]"), 10)[0]
        upload.send_keys("\n".join(str(p) for p in sorted((ROOT / "tests/data/iceland").iterdir())))
        wait(browser, lambda d: len(css(d, "#pilcrow-upload .file-name, #pilcrow-upload td")) >= 4, 30)
        css(browser, "#pilcrow-index")[0].click()
        wait(browser, lambda d: css(d, "#pilcrow-progress .pprogress[data-status='done']"), 120)
        progress = css(browser, "#pilcrow-progress")[0].text
        assert "3 cables read, 1 skipped" in progress and "no recognisable cable" in progress
        wait(browser, lambda d: "Embassy Reykjavik (3)" in css(d, "#pilcrow-indexed")[0].text, 10)
        browser.save_screenshot(str(shots / "collection.png"))

        tab(browser, "Ask")
        ask(browser, "How many Ford fuel cell vehicles did the Minister of Industry hand out "
                     "in Reykjavik?")
        wait(browser, lambda d: len(css(d, "#pilcrow-chat .panswer, #pilcrow-chat .pabstain")) == 3)
        answer = css(browser, "#pilcrow-chat .panswer, #pilcrow-chat .pabstain")[-1]
        assert "ten Ford Focus" in answer.text
        assert "10REYKJAVIK19" in answer.find_element("css selector", ".pbody a.pcite").text
        browser.save_screenshot(str(shots / "uploaded-answer.png"))
