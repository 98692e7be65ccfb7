"""The web console in headless Chromium (Debian's chromium and chromium-driver, driven by selenium).

Run by crates/harness/tests/e2e/console.rs, which starts the cluster and sets the scene. Environment:
CUTOVER_ENDPOINT; CONSOLE_HOSTS (JSON: host name -> scratch directory, where a gate file releases a held hook);
CONSOLE_LIVE (a deployment of group `live` to host-1 and host-2, both held in BeforeInstall), CONSOLE_FAILED (a
deployment of group `canary` that failed in ApplicationStart on host-3), CONSOLE_STOPPABLE (a OneAtATime deployment
of group `stoppable`, one host held); CONSOLE_SCREENSHOTS (where the screenshots go).

Prints "N passed, 0 failed" when every check passed; exits non-zero at the first failure, leaving
failure.png and failure.html next to the screenshots.
"""

import base64
import json
import os
import sys
import time
import traceback
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

BASE = os.environ["CUTOVER_ENDPOINT"]
HOSTS = json.loads(os.environ["CONSOLE_HOSTS"])
LIVE = os.environ["CONSOLE_LIVE"]
FAILED = os.environ["CONSOLE_FAILED"]
STOPPABLE = os.environ["CONSOLE_STOPPABLE"]
SHOTS = Path(os.environ["CONSOLE_SCREENSHOTS"])
# Generous: only a hang waits this long.
TIMEOUT = 30

_passed = 0


def check(condition, what):
    global _passed
    if not condition:
        raise AssertionError(what)
    _passed += 1


def equal(actual, expected, what):
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--disable-gpu", "--lang=en-US"]:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait(driver, what, condition):
    """Polls `condition(driver)` until it is truthy (returning it) or TIMEOUT passes."""
    deadline = time.monotonic() + TIMEOUT
    last = None
    while time.monotonic() < deadline:
        try:
            value = condition(driver)
            if value:
                return value
        except (StaleElementReferenceException, WebDriverException) as error:
            last = error
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last error: {last}) on {driver.current_url}")


def text(driver, css):
    """The visible text of the first element matching `css`, read in one step (live pages replace elements)."""
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : null;", css)


def count(driver, label):
    """A deployment page's overview count for a status label, as shown."""
    value = text(driver, f'.counts [data-status="{label}"] dd')
    return int(value) if value is not None else None


def event_status(driver, instance, event):
    return text(driver, f'.target[data-instance="{instance}"] .ev[data-event="{event}"] .ev-status')


def click(driver, by, selector):
    """Clicks an element of a live page (found again if an update replaced it meanwhile)."""
    wait(driver, f"to click {selector}", lambda d: d.find_element(by, selector).click() or True)


def open_gate(host, group):
    Path(HOSTS[host], f"open-{group}").touch()


def shot(driver, name):
    """Saves the whole page (up to a few screens) as `<name>.png`."""
    driver.execute_script("if (document.activeElement) document.activeElement.blur();")
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 2400), "scale": 1}
    image = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
    (SHOTS / f"{name}.png").write_bytes(base64.b64decode(image["data"]))


def live(driver):
    """Waits until the page's event stream is connected."""
    wait(driver, "the live stream", lambda d: d.find_element(By.ID, "live-state").get_attribute("data-state") == "live")


def settled(driver):
    """Waits until a finished deployment's page has had its last update."""
    wait(driver, "the last update", lambda d: d.find_element(By.ID, "live-state").get_attribute("data-state") == "ended")


def mark(driver):
    """Marks the loaded document: the mark survives live updates, and a reload would lose it."""
    driver.execute_script("window.__consoleMark = 'kept';")


def marked(driver):
    return driver.execute_script("return window.__consoleMark;") == "kept"


def live_deployment(driver):
    driver.get(f"{BASE}/console/deployments/{LIVE}")
    live(driver)
    mark(driver)
    equal(text(driver, "h1"), f"Deployment {LIVE}", "deployment heading")
    equal(count(driver, "In progress"), 2, "both hosts run at first")
    equal(count(driver, "Succeeded"), 0, "none succeeded at first")
    equal(event_status(driver, "host-1", "BeforeInstall"), "In progress", "host-1 is held in BeforeInstall")
    equal(event_status(driver, "host-1", "Install"), "Pending", "host-1 has not installed")
    shot(driver, "deployment-running")

    # host-2's log page, in a second tab: the held hook's first line arrives while it still runs.
    deployment_tab = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(f"{BASE}/console/deployments/{LIVE}/instances/host-2")
    live(driver)
    mark(driver)
    before_install = driver.find_element(By.CSS_SELECTOR, 'details[data-event="BeforeInstall"] pre.log')
    log_id = before_install.get_attribute("id")
    wait(driver, "the running hook's output", lambda d: "waiting for the gate of live" in d.find_element(By.ID, log_id).text)
    equal(text(driver, '.events-table tr[data-event="BeforeInstall"] .ev-status'), "In progress", "still running")
    check("gate open" not in driver.find_element(By.ID, log_id).text, "the log shows only what was written so far")
    shot(driver, "instance-log-running")

    # Release host-1: the deployment page changes by itself.
    driver.switch_to.window(deployment_tab)
    open_gate("host-1", "live")
    wait(driver, "host-1 to succeed", lambda d: count(d, "Succeeded") == 1 and count(d, "In progress") == 1)
    equal(event_status(driver, "host-1", "BeforeInstall"), "Succeeded", "host-1's BeforeInstall, live")
    equal(event_status(driver, "host-1", "ApplicationStart"), "Succeeded", "host-1 went on to the end")
    equal(event_status(driver, "host-2", "BeforeInstall"), "In progress", "host-2 is still held")
    check(marked(driver), "the deployment page was updated without reloading")

    # Release host-2: its log grows in place, then the deployment succeeds.
    driver.switch_to.window(driver.window_handles[-1])
    open_gate("host-2", "live")
    wait(driver, "the rest of host-2's hook output", lambda d: "gate open, installing" in d.find_element(By.ID, log_id).text)
    wait(driver, "host-2 to succeed", lambda d: d.find_element(By.CSS_SELECTOR, "#timeline [data-target-status]").get_attribute("data-target-status") == "Succeeded")
    streamed = driver.find_element(By.ID, log_id).text
    equal(streamed.count("waiting for the gate of live"), 1, "the log kept its first line, once")
    equal(streamed.count("gate open, installing"), 1, "the last line arrived once")
    equal(text(driver, '.events-table tr[data-event="ValidateService"] .ev-status'), "Succeeded", "host-2's last event")
    check(marked(driver), "the log page was updated without reloading")
    driver.close()
    driver.switch_to.window(deployment_tab)
    wait(driver, "the deployment to succeed", lambda d: count(d, "Succeeded") == 2)
    settled(driver)
    equal(text(driver, ".big-status"), "Succeeded", "deployment status, live")
    check(not driver.find_elements(By.ID, "action-stop"), "a finished deployment offers no Stop")
    check(marked(driver), "still the same document")
    shot(driver, "deployment-succeeded")


def failed_host_log(driver):
    driver.get(f"{BASE}/console/deployments/{FAILED}")
    settled(driver)
    equal(text(driver, ".big-status"), "Failed", "failed deployment status")
    equal(count(driver, "Failed"), 1, "one failed host")
    failure = driver.find_element(By.CSS_SELECTOR, '.failure[data-instance="host-3"]')
    check("ApplicationStart failed" in failure.text, f"the failure names its event: {failure.text}")
    check("scripts/start.sh" in failure.text, f"the failure names its script: {failure.text}")
    check("boom: port 8080 is already taken by pid 4242" in failure.text, f"the failure shows the log's end: {failure.text}")
    shot(driver, "deployment-failed")
    click(driver, By.CSS_SELECTOR, '.failure[data-instance="host-3"] a.full-log')
    wait(driver, "host-3's log page", lambda d: d.current_url.endswith(f"/deployments/{FAILED}/instances/host-3"))
    settled(driver)
    start_log = driver.find_element(By.CSS_SELECTOR, 'details[data-event="ApplicationStart"]')
    check(start_log.get_attribute("open") is not None, "the failed event's log is open")
    log = start_log.find_element(By.CSS_SELECTOR, "pre.log").text
    check("starting the shop" in log, f"the script's standard output is in the log: {log}")
    check("boom: port 8080 is already taken by pid 4242" in log, f"its standard error too: {log}")
    row = driver.find_element(By.CSS_SELECTOR, '.events-table tr[data-event="ApplicationStart"]')
    check("ScriptFailed" in row.text and "scripts/start.sh" in row.text, f"diagnostics in the timeline: {row.text}")
    equal(text(driver, '.events-table tr[data-event="ValidateService"] .ev-status'), "Skipped", "later events skipped")
    shot(driver, "instance-log")


def sign_in_as(driver, key_id, secret):
    driver.get(f"{BASE}/console/login")
    driver.find_element(By.ID, "access-key-id").send_keys(key_id)
    driver.find_element(By.ID, "secret-access-key").send_keys(secret)
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()


def sign_in(driver):
    """The console needs a signed-in access key; a viewer's session may look but not stop deployments."""
    driver.get(f"{BASE}/console/deployments/{STOPPABLE}")
    wait(driver, "the sign-in page", lambda d: "/console/login" in d.current_url)
    check("next=" in driver.current_url, "the sign-in page remembers where to go back")
    shot(driver, "login")
    sign_in_as(driver, os.environ["CONSOLE_ADMIN_ID"], "not-the-secret")
    wait(driver, "the refusal", lambda d: "do not match" in (text(d, ".notice") or ""))
    sign_in_as(driver, os.environ["CONSOLE_VIEWER_ID"], os.environ["CONSOLE_VIEWER_SECRET"])
    wait(driver, "the viewer's applications page", lambda d: d.current_url.rstrip("/").endswith("/console"))
    driver.get(f"{BASE}/console/deployments/{STOPPABLE}/confirm/stop")
    driver.find_element(By.ID, "confirm-action").click()
    wait(driver, "the viewer's refusal", lambda d: "not authorized to perform: codedeploy:StopDeployment" in d.page_source)
    driver.get(f"{BASE}/console")
    check("Signed in as" in text(driver, "header .user"), "the header names who is signed in")
    driver.find_element(By.CSS_SELECTOR, "form.logout button").click()
    wait(driver, "the sign-in page after signing out", lambda d: "/console/login" in d.current_url)
    sign_in_as(driver, os.environ["CONSOLE_ADMIN_ID"], os.environ["CONSOLE_ADMIN_SECRET"])
    wait(driver, "the admin's applications page", lambda d: d.current_url.rstrip("/").endswith("/console"))


def stop_from_the_page(driver):
    driver.get(f"{BASE}/console/deployments/{STOPPABLE}")
    live(driver)
    equal(count(driver, "In progress"), 1, "OneAtATime: one host runs")
    equal(count(driver, "Pending"), 1, "the other waits")
    click(driver, By.ID, "action-stop")
    wait(driver, "the confirmation page", lambda d: "/confirm/stop" in d.current_url)
    equal(text(driver, "h1"), f"Stop deployment {STOPPABLE}?", "the confirmation asks")
    check(driver.find_element(By.NAME, "csrf").get_attribute("value"), "the form carries a CSRF token")
    shot(driver, "confirm-stop")
    driver.find_element(By.ID, "confirm-action").click()
    wait(driver, "the deployment page again", lambda d: f"/deployments/{STOPPABLE}?done=" in d.current_url)
    live(driver)
    mark(driver)
    check("Stop requested" in (text(driver, ".notice") or ""), "the page says the stop was requested")
    wait(driver, "the pending host to be skipped", lambda d: count(d, "Skipped") == 1)
    offscreen = driver.execute_script(
        "return [...document.querySelectorAll('.counts .count, .status')]"
        ".filter(e => e.getBoundingClientRect().left < 0).length;")
    equal(offscreen, 0, "every count and status is on screen")
    check("Stopping" in text(driver, ".big-status"), "stopping while the held hook still runs")
    # The running hook is never killed: once it ends, the deployment is Stopped.
    for host in HOSTS:
        open_gate(host, "stoppable")
    wait(driver, "the deployment to stop", lambda d: text(d, ".big-status") == "Stopped")
    check(marked(driver), "the stop showed up without reloading")
    shot(driver, "deployment-stopped")


def slash_search(driver):
    driver.get(f"{BASE}/console")
    equal(text(driver, "h1"), "Applications", "the applications page")
    shot(driver, "applications")
    ActionChains(driver).send_keys("/").perform()
    equal(driver.switch_to.active_element.get_attribute("id"), "search-box", "/ focuses the search box")
    ActionChains(driver).send_keys("STOPPABLE", Keys.ENTER).perform()
    wait(driver, "the group page", lambda d: d.current_url.endswith("/console/applications/shop/groups/stoppable"))
    equal(text(driver, "h1"), "Deployment group stoppable", "search jumps to the group, ignoring case")
    shot(driver, "group")
    ActionChains(driver).send_keys("/").perform()
    ActionChains(driver).send_keys("HoSt-2", Keys.ENTER).perform()
    wait(driver, "the instance page", lambda d: d.current_url.endswith("/console/instances/host-2"))
    equal(text(driver, "h1"), "Instance host-2", "search jumps to the instance")
    check("Online" in driver.find_element(By.CSS_SELECTOR, ".facts").text, "host-2's agent is online")
    shot(driver, "instance")
    # "/" typed into a field is just a character.
    box = driver.find_element(By.ID, "search-box")
    box.click()
    box.send_keys("host/")
    equal(box.get_attribute("value"), "host/", "/ in the search box is typed")
    driver.get(f"{BASE}/console/search?q={FAILED.lower()}")
    wait(driver, "the failed deployment's page", lambda d: d.current_url.endswith(f"/console/deployments/{FAILED}"))
    driver.get(f"{BASE}/console/search?q={FAILED[2:10].lower()}")
    wait(driver, "the failed deployment's page, from part of its id", lambda d: d.current_url.endswith(f"/console/deployments/{FAILED}"))
    driver.get(f"{BASE}/console/search?q=host")
    equal(len(driver.find_elements(By.CSS_SELECTOR, ".hits li")), 3, "three instances match 'host'")
    shot(driver, "search")


def other_pages(driver):
    driver.get(f"{BASE}/console/applications/shop")
    rows = {row.find_element(By.CSS_SELECTOR, "th").text: row.text for row in driver.find_elements(By.CSS_SELECTOR, "table")[0].find_elements(By.CSS_SELECTOR, "tbody tr")}
    check("1 of 2 (50%)" in rows["canary"], f"canary: one of two deployments succeeded: {rows['canary']}")
    check("1 of 1 (100%)" in rows["live"], f"live: its deployment succeeded: {rows['live']}")
    shot(driver, "application")
    driver.get(f"{BASE}/console/instances")
    host3 = driver.find_element(By.CSS_SELECTOR, 'tr[data-instance="host-3"]').text
    check("Online" in host3 and "host=host-3" in host3 and "shop / canary" in host3, f"host-3's line: {host3}")
    shot(driver, "instances")
    driver.get(f"{BASE}/console/applications/shop/revisions")
    revisions = driver.find_elements(By.CSS_SELECTOR, "tbody tr")
    equal(len(revisions), 2, "two revisions")
    check(all("s3://cutover-revisions/shop/" in row.text for row in revisions), "revisions name their S3 objects")
    check(any("canary" in row.text and "live" in row.text for row in revisions), "v2 went to canary and live")
    shot(driver, "revisions")


def accessibility_and_layout(driver):
    driver.get(f"{BASE}/console/deployments/{FAILED}")
    settled(driver)
    unlabeled = driver.execute_script(
        "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
        ".filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).length;")
    equal(unlabeled, 0, "every field has a label")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    focused = driver.switch_to.active_element
    equal(focused.text, "Skip to content", "the first tab stop skips to the content")
    outline = driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle;", focused)
    check(outline not in ("", "none"), f"focus is visible (outline {outline})")
    # Dark mode follows the system setting.
    light = driver.execute_script("return getComputedStyle(document.body).backgroundColor;")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    dark = driver.execute_script("return getComputedStyle(document.body).backgroundColor;")
    check(light != dark, f"dark mode changes the page ({light} -> {dark})")
    shot(driver, "deployment-failed-dark")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    # A phone's width: nothing but tables scrolls sideways.
    driver.set_window_size(390, 844)
    for path in [f"/console/deployments/{LIVE}", "/console/instances", f"/console/deployments/{FAILED}/instances/host-3"]:
        driver.get(BASE + path)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        check(overflow <= 0, f"{path} fits a phone's width (overflow {overflow}px)")
    driver.get(f"{BASE}/console/deployments/{LIVE}")
    shot(driver, "deployment-phone")
    driver.set_window_size(1280, 1000)


def main():
    SHOTS.mkdir(parents=True, exist_ok=True)
    for stale in ("failure.png", "failure.html"):
        (SHOTS / stale).unlink(missing_ok=True)
    driver = browser()
    try:
        try:
            sign_in(driver)
            live_deployment(driver)
            failed_host_log(driver)
            stop_from_the_page(driver)
            slash_search(driver)
            other_pages(driver)
            accessibility_and_layout(driver)
        except Exception:
            traceback.print_exc()
            try:
                driver.save_screenshot(str(SHOTS / "failure.png"))
                (SHOTS / "failure.html").write_text(driver.page_source)
            except WebDriverException:
                pass
            print(f"{_passed} passed, 1 failed")
            sys.exit(1)
    finally:
        driver.quit()
    print(f"{_passed} passed, 0 failed")


if __name__ == "__main__":
    main()
