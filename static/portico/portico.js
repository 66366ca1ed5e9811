// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Customer list: select all on the page, then optionally all matching.
  function setupSelection(root) {
    const form = root.querySelector("[data-bulk-form]");
    if (!form) return;
    const pageBox = form.querySelector("[data-select-page]");
    const boxes = () => Array.from(form.querySelectorAll("[data-select-row]"));
    const bar = form.querySelector("[data-selection-bar]");
    const allMatching = form.querySelector("input[name=all_matching]");
    const countLabel = form.querySelector("[data-selected-count]");
    const offerAll = form.querySelector("[data-offer-all]");
    const allChosen = form.querySelector("[data-all-chosen]");

    function refresh() {
      const ticked = boxes().filter((b) => b.checked).length;
      const total = boxes().length;
      bar.classList.toggle("d-none", ticked === 0);
      if (pageBox) {
        pageBox.checked = total > 0 && ticked === total;
        pageBox.indeterminate = ticked > 0 && ticked < total;
      }
      if (ticked < total || ticked === 0) allMatching.value = "0";
      const all = allMatching.value === "1";
      countLabel.textContent = all ? countLabel.dataset.allText : countLabel.dataset.template.replace("__n__", ticked);
      if (offerAll) offerAll.classList.toggle("d-none", all || ticked !== total || total === 0);
      if (allChosen) allChosen.classList.toggle("d-none", !all);
    }
    if (pageBox) pageBox.addEventListener("change", () => { boxes().forEach((b) => (b.checked = pageBox.checked)); refresh(); });
    boxes().forEach((b) => b.addEventListener("change", refresh));
    form.querySelectorAll("[data-choose-all]").forEach((btn) => btn.addEventListener("click", (e) => { e.preventDefault(); allMatching.value = "1"; refresh(); }));
    form.querySelectorAll("[data-clear-selection]").forEach((btn) => btn.addEventListener("click", (e) => { e.preventDefault(); allMatching.value = "0"; boxes().forEach((b) => (b.checked = false)); refresh(); }));
    refresh();
  }

  // Customer form: add a contact person row from the formset's empty form.
  function setupFormset(root) {
    root.querySelectorAll("[data-formset]").forEach((formset) => {
      const prefix = formset.dataset.formset;
      const total = formset.querySelector(`#id_${prefix}-TOTAL_FORMS`);
      const template = formset.querySelector("template[data-empty-form]");
      const list = formset.querySelector("[data-formset-list]");
      const addButton = formset.querySelector("[data-formset-add]");
      if (!total || !template || !addButton || addButton.dataset.ready) return;
      addButton.dataset.ready = "1";
      addButton.hidden = false;
      addButton.addEventListener("click", () => {
        const index = parseInt(total.value, 10);
        const html = template.innerHTML.replace(/__prefix__/g, index).replace(/__number__/g, index + 1);
        list.insertAdjacentHTML("beforeend", html);
        total.value = index + 1;
        const first = list.lastElementChild.querySelector("input[type=text]");
        if (first) first.focus();
      });
      formset.addEventListener("change", (event) => {
        const target = event.target;
        if (target.name && target.name.endsWith("-DELETE")) {
          target.closest("[data-formset-row], .contact-row").classList.toggle("marked-for-removal", target.checked);
        }
        if (target.name && target.name.endsWith("-is_primary") && target.checked) {
          formset.querySelectorAll("input[name$='-is_primary']").forEach((other) => { if (other !== target) other.checked = false; });
        }
      });
    });
  }

  // Customer form: copy the billing address into the shipping address.
  function setupAddressCopy(root) {
    root.querySelectorAll("[data-copy-address]").forEach((button) => {
      const [from, to] = button.dataset.copyAddress.split(":");
      const form = button.closest("form");
      button.hidden = false;
      button.addEventListener("click", () => {
        form.querySelectorAll(`[name^="${from}_"]`).forEach((source) => {
          const target = form.elements[to + source.name.slice(from.length)];
          if (target) target.value = source.value;
        });
      });
    });
  }

  // Document lines: choosing an item fills its description, unit, rate and
  // tax; every change recomputes the totals shown under the lines. The
  // server recomputes them on save (portico.sales.totals), rounding alike.
  function setupLines(root) {
    root.querySelectorAll("[data-lines]").forEach((lines) => {
      if (lines.dataset.ready) return;
      lines.dataset.ready = "1";
      const digits = parseInt(lines.dataset.currencyDigits || "2", 10);
      const locale = document.documentElement.lang || "en";
      const round = (value) => { const f = Math.pow(10, digits); return Math.round((value + Number.EPSILON) * f) / f; };
      const number = (value) => { const n = parseFloat(String(value || "").replace(",", ".")); return Number.isFinite(n) ? n : 0; };
      const format = (value) => value.toLocaleString(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
      function field(row, name) { return row.querySelector(`[name$="-${name}"]`); }
      // Writes only what changed: the MutationObserver below watches this
      // subtree, and rewriting equal text would wake it again, forever.
      function show(cell, text) { if (cell && cell.textContent !== text) cell.textContent = text; }
      function recompute() {
        let subtotal = 0, discount = 0, tax = 0;
        lines.querySelectorAll("[data-formset-row]").forEach((row) => {
          const remove = field(row, "DELETE");
          const amountCell = row.querySelector("[data-line-amount]");
          if (remove && remove.checked) { show(amountCell, ""); return; }
          const gross = round(number(field(row, "quantity").value) * number(field(row, "rate").value));
          const lineDiscount = round(gross * number(field(row, "discount_percent").value) / 100);
          const taxSelect = field(row, "tax");
          const taxOption = taxSelect && taxSelect.selectedOptions[0];
          const taxRate = taxOption && taxOption.dataset.rate ? number(taxOption.dataset.rate) : 0;
          const lineTax = round((gross - lineDiscount) * taxRate / 100);
          subtotal += gross; discount += lineDiscount; tax += lineTax;
          show(amountCell, format(gross - lineDiscount));
        });
        const put = (name, value) => show(lines.querySelector(`[data-total="${name}"]`), format(value));
        put("subtotal", subtotal); put("discount", discount); put("tax", tax); put("total", subtotal - discount + tax);
      }
      lines.addEventListener("change", (event) => {
        const target = event.target;
        if (target.name && target.name.endsWith("-item")) {
          const option = target.selectedOptions[0];
          const row = target.closest("[data-formset-row]");
          if (option && option.dataset.rate !== undefined) {
            field(row, "rate").value = option.dataset.rate;
            field(row, "unit").value = option.dataset.unit || "";
            if (!field(row, "description").value) field(row, "description").value = option.dataset.description || option.textContent.trim();
            if (field(row, "tax")) field(row, "tax").value = option.dataset.tax || "";
          }
        }
        recompute();
      });
      lines.addEventListener("input", recompute);
      new MutationObserver(recompute).observe(lines, { childList: true, subtree: true });
      recompute();
    });
  }

  function setup(root) { setupSelection(root); setupFormset(root); setupAddressCopy(root); setupLines(root); }
  // A form that came back with errors: start at the first field to correct.
  function focusFirstError() {
    const invalid = document.querySelector("form .is-invalid");
    if (invalid) invalid.focus({ preventScroll: false });
  }

  document.addEventListener("DOMContentLoaded", () => { setup(document); focusFirstError(); });
  document.addEventListener("htmx:afterSettle", (event) => setup(event.detail.elt));
})();
