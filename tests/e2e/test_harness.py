"""The harness can fail: what it watches for is really seen."""

from __future__ import annotations

from .harness import Watch


def test_an_inline_handler_the_csp_blocks_is_seen_as_a_violation(chromium, service):
    # The sign-in page is served with the CSP; an inline handler added to it must be refused
    # by the browser, and the refusal must reach the Watch that fails the other tests.
    context = chromium.new_context(base_url=service.base_url)
    page = context.new_page()
    watch = Watch()
    watch.attach(page)
    page.goto("/login/")
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("""document.body.insertAdjacentHTML('beforeend', '<img src="/nothing.png" onerror="1">')""")
    context.close()
    assert any("Content Security Policy" in text for text in watch.csp_violations), watch.csp_violations


def test_a_server_error_answer_is_seen(chromium, service):
    context = chromium.new_context(base_url=service.base_url)
    page = context.new_page()
    watch = Watch()
    watch.attach(page)
    # A page answered 500 is a server error whatever made it; the route stands in for a broken view.
    page.route("**/healthz", lambda route: route.fulfill(status=500, body="boom"))
    page.goto("/healthz")
    context.close()
    assert watch.server_errors == [f"GET {service.base_url}/healthz answered 500"]
