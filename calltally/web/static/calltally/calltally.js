// CallTally's few behaviours, written once and wired by data- attributes (the
// Content-Security-Policy allows no inline script).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // <form data-confirm="Delete 3 sites?"> or <button data-confirm="…">: ask before a destructive action.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const button = event.submitter;
    const question = (button && button.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  document.querySelectorAll("a[data-confirm]").forEach((link) => {
    link.addEventListener("click", (event) => {
      if (!window.confirm(link.dataset.confirm)) event.preventDefault();
    });
  });

  // A table's "select all" box ticks every row box of its form.
  document.querySelectorAll("input[data-select-all]").forEach((box) => {
    box.addEventListener("change", () => {
      const scope = box.closest("form") || document;
      scope.querySelectorAll("input[name='pk']").forEach((row) => { row.checked = box.checked; });
      updateBulk(scope);
    });
  });
  document.querySelectorAll("input[name='pk']").forEach((row) => {
    row.addEventListener("change", () => updateBulk(row.closest("form") || document));
  });
  function updateBulk(scope) {
    const any = scope.querySelector("input[name='pk']:checked") !== null;
    scope.querySelectorAll("[data-bulk]").forEach((button) => { button.disabled = !any; });
  }
  document.querySelectorAll("form").forEach((form) => {
    if (form.querySelector("[data-bulk]")) updateBulk(form);
  });

  // <input data-shown-with="kind=a,b">: the field (its [data-field] wrapper) shows only while the
  // form's field "kind" holds one of those values; a hidden field keeps its value.
  document.querySelectorAll("[data-shown-with]").forEach((field) => {
    const [name, values] = field.dataset.shownWith.split("=");
    const control = field.form && field.form.elements[name];
    if (!control) return;
    const wanted = values.split(",");
    const wrapper = field.closest("[data-field]") || field;
    const update = () => { wrapper.hidden = !wanted.includes(control.value); };
    control.addEventListener("change", update);
    update();
  });

  // <select data-autosubmit>: changing it submits its form (per-page choice, site switch).
  document.querySelectorAll("[data-autosubmit]").forEach((field) => {
    field.addEventListener("change", () => field.form && field.form.submit());
  });

  // <div data-refresh="10" data-refresh-url="…">: the element's content is fetched again every
  // N seconds (status pages, a job's progress), and the page itself once a job has finished.
  document.querySelectorAll("[data-refresh]").forEach((box) => {
    const seconds = Math.max(2, parseInt(box.dataset.refresh, 10) || 10);
    const url = box.dataset.refreshUrl || window.location.href;
    const tick = async () => {
      if (document.hidden) return;
      try {
        const response = await fetch(url, {headers: {"X-Requested-With": "fetch"}, credentials: "same-origin"});
        if (response.redirected || !response.ok) return;
        const text = await response.text();
        const page = new DOMParser().parseFromString(text, "text/html");
        const fresh = box.id ? page.getElementById(box.id) : null;
        if (fresh) {
          box.innerHTML = fresh.innerHTML;
          if (fresh.dataset.refresh === undefined) clearInterval(timer);
        }
      } catch (error) {
        // The server is restarting or unreachable: try again at the next tick.
      }
    };
    const timer = setInterval(tick, seconds * 1000);
  });

  // Progress bars take their width from data-progress (no inline style under the CSP).
  const paint = () => document.querySelectorAll("[data-progress]").forEach((bar) => {
    bar.style.width = Math.min(100, Math.max(0, parseFloat(bar.dataset.progress) || 0)) + "%";
  });
  paint();
  new MutationObserver(paint).observe(document.body, {childList: true, subtree: true});
});
