"""The admin console in a real browser (headless Chromium through selenium): the whole life of a key
and a model as an administrator lives it, the XSS names proven inert, an accessibility check (axe) on
every page, and screenshots of every page in the light and the dark theme.

Needs chromium and chromedriver (Debian: `chromium chromium-driver`); without them the suite skips,
unless REQUIRE_BROWSER=1 (CI), where their absence fails. Screenshots go to $CONSOLE_SCREENSHOTS or
a temporary directory, printed at the end.
"""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest

from fixtures_gateway import GATEWAY_BIN, start_listening_process

CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN") or shutil.which("chromedriver") or "/usr/bin/chromedriver"

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    message = f"chromium ({CHROMIUM}) or chromedriver ({CHROMEDRIVER}) is not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise RuntimeError(message)
    pytest.skip(message, allow_module_level=True)

import openai  # noqa: E402
from axe_selenium_python import Axe  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    NoAlertPresentException, StaleElementReferenceException, WebDriverException)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

PASSWORD = "a long console password"
# Each would set window.__xss (or open an alert) if the page ever ran it.
XSS_KEY = "<script>window.__xss='key'</script>"
XSS_ALIAS = "\"><img src=x onerror=\"window.__xss='alias'\">"
XSS_BRIEF = "\"><img src=x onerror=alert(1)>"

SHOTS = pathlib.Path(os.environ.get("CONSOLE_SCREENSHOTS") or tempfile.mkdtemp(prefix="console-screenshots-"))
SHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="module")
def console(sim):
    """A gateway of its own (its own database: this suite changes the admin password)."""
    data = tempfile.mkdtemp(prefix="gateway-console-e2e-")
    env = {**os.environ, "BCRYPT_COST": "4", "LOG_LEVEL": "warning"}
    process, url = start_listening_process(
        [GATEWAY_BIN, "serve", "--port", "0", "--ollama-url", sim, "--data-dir", data], env, "ollama-gateway")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    print(f"\nconsole screenshots: {SHOTS}")


def wait_for(driver, condition, timeout=15):
    return WebDriverWait(driver, timeout).until(condition)


def assert_inert(driver):
    """Nothing a user or Ollama named ran: no flag set, no alert open."""
    assert driver.execute_script("return window.__xss === undefined"), driver.execute_script("return window.__xss")
    try:
        alert = driver.switch_to.alert
        text = alert.text
        alert.dismiss()
        raise AssertionError(f"an alert opened: {text}")
    except NoAlertPresentException:
        pass


def check_page(driver, name):
    """In the light and the dark theme: axe (no serious or critical violation, contrast included), the
    XSS check, and a screenshot."""
    assert_inert(driver)
    axe = Axe(driver)
    for theme in ("light", "dark"):
        driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": theme}]})
        axe.inject()
        results = axe.run()
        bad = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
               for v in results["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, f"{name} ({theme}): {bad}"
        screenshot(driver, SHOTS / f"{name}-{theme}.png")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})
    assert_inert(driver)


def screenshot(driver, path):
    """The whole page from its top (up to a tall screen's height), at the window's width."""
    size = driver.get_window_size()
    driver.execute_script("window.scrollTo(0, 0); document.activeElement && document.activeElement.blur();")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size["width"], min(max(height + 20, 300), 2000) + (size["height"] - driver.execute_script("return window.innerHeight")))
    driver.save_screenshot(str(path))
    driver.set_window_size(size["width"], size["height"])


def fill(driver, name, value):
    field = driver.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def submit(driver, form_selector="main form.stack, main form.grid-form", navigates=True):
    """Clicks the form's main button; waits for the next page when the form navigates."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, form_selector).find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    if navigates:
        wait_for(driver, page_replaced(page))


def page_replaced(page):
    """Like selenium's staleness_of, but chromedriver may also answer a query on the old page's node
    with "Node with given id does not belong to the document" while the next page replaces it."""
    def replaced(_driver):
        try:
            page.is_enabled()
            return False
        except (StaleElementReferenceException, WebDriverException):
            return True
    return replaced


def click_and_wait(driver, element):
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait_for(driver, page_replaced(page))


def last_chat_body(sim):
    with urllib.request.urlopen(sim + "/sim/requests") as response:
        recorded = json.load(response)["requests"]
    return [r.get("body") for r in recorded if r.get("path") == "/api/chat"][-1]


def test_the_whole_life_of_a_key_and_a_model(console, sim, browser):
    driver = browser
    # First visit: the login, then the forced change of admin/admin before anything else.
    driver.get(console + "/admin/")
    assert driver.current_url.endswith("/admin/login")
    check_page(driver, "login")
    fill(driver, "username", "admin")
    fill(driver, "password", "admin")
    submit(driver)
    assert driver.current_url.endswith("/admin/password")
    assert "Choose a new password" in driver.page_source
    check_page(driver, "password-forced")
    driver.get(console + "/admin/keys")
    assert driver.current_url.endswith("/admin/password"), "the console opened before the password changed"
    fill(driver, "current_password", "admin")
    fill(driver, "new_password", PASSWORD)
    fill(driver, "confirm_password", PASSWORD)
    submit(driver)
    assert driver.current_url.endswith("/admin/?notice=password-changed")

    # A key, named to attack the page: the secret is shown once, with a copy button.
    driver.get(console + "/admin/keys")
    fill(driver, "name", XSS_KEY)
    fill(driver, "rpm", "120")
    submit(driver)
    secret = driver.find_element(By.ID, "new-secret").text
    assert secret.startswith("sk-")
    assert_inert(driver)
    driver.find_element(By.CSS_SELECTOR, "button[data-copy=new-secret]").click()
    wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "button[data-copy=new-secret]").text == "Copied")
    check_page(driver, "key-created")
    driver.get(console + "/admin/keys")
    assert secret not in driver.page_source
    assert XSS_KEY in driver.find_element(By.CSS_SELECTOR, "main table").text
    check_page(driver, "keys")

    # The key works with the official SDK, and its request shows up in the console.
    client = openai.OpenAI(base_url=console + "/v1", api_key=secret, max_retries=0, timeout=30)
    reply = client.chat.completions.create(model="sim-chat", messages=[{"role": "user", "content": "hello console"}])
    assert reply.choices[0].message.content
    deadline = time.time() + 15
    while True:
        driver.get(console + "/admin/requests")
        rows = driver.find_elements(By.CSS_SELECTOR, "main tbody tr")
        if rows or time.time() > deadline:
            break
        time.sleep(0.5)
    assert rows and "sim-chat" in rows[0].text and XSS_KEY in rows[0].text
    check_page(driver, "requests")
    click_and_wait(driver, rows[0].find_element(By.CSS_SELECTOR, "a"))
    assert "/admin/requests/detail" in driver.current_url
    check_page(driver, "request-detail")
    driver.get(console + "/admin/?range=1h")
    stats = {s.find_element(By.CSS_SELECTOR, ".stat-label").text: s.find_element(By.CSS_SELECTOR, ".stat-value").text
             for s in driver.find_elements(By.CSS_SELECTOR, ".stat")}
    assert int(stats["Requests"].split()[0]) >= 1, stats
    check_page(driver, "overview")

    # A model's overrides: invalid JSON shows its error beside the field; a valid one takes effect.
    driver.get(console + "/admin/models")
    check_page(driver, "models")
    click_and_wait(driver, driver.find_element(By.LINK_TEXT, "sim-chat:latest"))
    fill(driver, "overrides", '{"num_ctx": 1234')
    submit(driver)
    error = driver.find_element(By.ID, "f-overrides-error")
    assert "not valid JSON" in error.text
    assert driver.find_element(By.ID, "f-overrides").get_attribute("aria-invalid") == "true"
    fill(driver, "overrides", '{"num_ctx": 1234}')
    fill(driver, "aliases", XSS_ALIAS + ", " + XSS_BRIEF)
    submit(driver)
    assert "The model settings have been saved." in driver.page_source
    check_page(driver, "model-edit")
    client.chat.completions.create(model="sim-chat", messages=[{"role": "user", "content": "again"}])
    assert last_chat_body(sim)["options"]["num_ctx"] == 1234
    driver.get(console + "/admin/models")
    assert XSS_BRIEF in driver.find_element(By.CSS_SELECTOR, "main table").text
    assert_inert(driver)

    # A second backend (the same simulator under another name), added through the form: the Backends
    # page lists both with the requests the first one served.
    driver.get(console + "/admin/backends")
    fill(driver, "name", "second")
    fill(driver, "url", sim)
    submit(driver)
    assert "The backend has been saved" in driver.page_source
    table = driver.find_element(By.CSS_SELECTOR, "main table").text
    assert "ollama" in table and "second" in table
    check_page(driver, "backends")

    # The remaining pages.
    for path, name in [("/admin/settings", "settings"), ("/admin/audit", "audit"), ("/admin/password", "password")]:
        driver.get(console + path)
        check_page(driver, name)
    driver.get(console + "/admin/playground")
    Select(driver.find_element(By.NAME, "model")).select_by_value("sim-chat:latest")
    fill(driver, "prompt", "Say something")
    submit(driver, "#playground", navigates=False)
    wait_for(driver, lambda d: "s in all" in d.find_element(By.ID, "answer-stats").text or "Error" in d.find_element(By.ID, "answer-stats").text)
    assert "tokens in" in driver.find_element(By.ID, "answer-stats").text
    assert driver.find_element(By.ID, "answer").text
    check_page(driver, "playground")

    # Rotate (confirmed), then revoke (its own confirmation page): old secrets are refused.
    driver.get(console + "/admin/keys")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "main tbody a[href^='/admin/keys/key_']"))
    check_page(driver, "key")
    driver.find_element(By.XPATH, "//button[text()='Rotate secret']").click()
    wait_for(driver, expected_conditions.alert_is_present()).accept()
    wait_for(driver, lambda d: d.find_elements(By.ID, "new-secret"))
    rotated = driver.find_element(By.ID, "new-secret").text
    assert rotated.startswith("sk-") and rotated != secret
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="sim-chat", messages=[{"role": "user", "content": "old"}])
    fresh = openai.OpenAI(base_url=console + "/v1", api_key=rotated, max_retries=0, timeout=30)
    assert fresh.chat.completions.create(model="sim-chat", messages=[{"role": "user", "content": "new"}]).choices
    click_and_wait(driver, driver.find_element(By.LINK_TEXT, "Go to the key"))
    click_and_wait(driver, driver.find_element(By.LINK_TEXT, "Revoke…"))
    check_page(driver, "key-revoke")
    click_and_wait(driver, driver.find_element(By.XPATH, "//button[text()='Revoke the key']"))
    assert "The key has been revoked" in driver.page_source
    with pytest.raises(openai.AuthenticationError):
        fresh.chat.completions.create(model="sim-chat", messages=[{"role": "user", "content": "revoked"}])

    # A phone's width: the same pages, one column.
    driver.set_window_size(390, 844)
    driver.get(console + "/admin/?range=24h")
    driver.save_screenshot(str(SHOTS / "overview-phone.png"))
    driver.get(console + "/admin/keys")
    driver.save_screenshot(str(SHOTS / "keys-phone.png"))
    driver.set_window_size(1280, 900)

    # Sign out: the console is closed again.
    click_and_wait(driver, driver.find_element(By.XPATH, "//button[text()='Sign out']"))
    assert driver.current_url.endswith("/admin/login?notice=signed-out")
    driver.get(console + "/admin/keys")
    assert driver.current_url.endswith("/admin/login")
