// Applying money to open invoices (record payment, apply credit, apply a
// credit note): "Pay in full" buttons and a running total of what is applied.
// Everything works without it; the server checks every amount again.
(function () {
  "use strict";

  const number = (value) => {
    const n = parseFloat(String(value || "").replace(",", "."));
    return Number.isFinite(n) ? n : 0;
  };

  function setupAllocations(root) {
    root.querySelectorAll("[data-allocations]").forEach((table) => {
      if (table.dataset.ready) return;
      table.dataset.ready = "1";
      const digits = parseInt(table.dataset.currencyDigits || "2", 10);
      const locale = document.documentElement.lang || "en";
      const format = (value) => value.toLocaleString(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
      const form = table.closest("form");
      const amountInput = form && form.querySelector("input[name=amount]");
      const inputs = () => Array.from(table.querySelectorAll("input.allocation-amount"));
      const summary = table.querySelector("[data-allocation-summary]");
      const available = () => (amountInput ? number(amountInput.value) : number(table.dataset.available));
      const cents = (value) => Math.round(value * Math.pow(10, digits));

      function recompute() {
        if (!summary) return;
        const applied = inputs().reduce((sum, input) => sum + number(input.value), 0);
        const left = available() - applied;
        summary.hidden = false;
        summary.querySelector("[data-applied]").textContent = format(applied);
        const label = summary.querySelector("[data-remaining-label]");
        const cell = summary.querySelector("[data-remaining]");
        cell.textContent = format(Math.abs(left));
        cell.classList.toggle("text-danger", cents(left) < 0);
        if (cents(left) < 0) label.textContent = label.dataset.overText;
        else if (amountInput && cents(left) > 0) label.textContent = label.dataset.excessText;
        else label.textContent = label.dataset.leftText;
      }

      function fill(button) {
        const input = button.closest("[data-allocation-row]").querySelector("input.allocation-amount");
        const balance = number(button.dataset.payFull);
        let value = balance;
        if (!amountInput) {
          // Applying credit: never more than what is left of it.
          const others = inputs().filter((other) => other !== input).reduce((sum, other) => sum + number(other.value), 0);
          value = Math.max(0, Math.min(balance, available() - others));
        }
        input.value = value.toFixed(digits);
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }

      table.querySelectorAll("[data-pay-full]").forEach((button) => {
        button.hidden = false;
        button.addEventListener("click", () => fill(button));
      });
      table.addEventListener("input", recompute);
      if (amountInput) amountInput.addEventListener("input", recompute);
      recompute();
    });

    // Record payment: "Pay all in full" fills every invoice and, if the
    // amount received is still empty or smaller, the amount too.
    root.querySelectorAll("[data-pay-all]").forEach((button) => {
      if (button.dataset.ready) return;
      button.dataset.ready = "1";
      button.hidden = false;
      button.addEventListener("click", () => {
        const card = button.closest(".card");
        const form = button.closest("form");
        const table = card.querySelector("[data-allocations]");
        const digits = parseInt(table.dataset.currencyDigits || "2", 10);
        let total = 0;
        card.querySelectorAll("[data-pay-full]").forEach((fullButton) => {
          const input = fullButton.closest("[data-allocation-row]").querySelector("input.allocation-amount");
          input.value = number(fullButton.dataset.payFull).toFixed(digits);
          total += number(fullButton.dataset.payFull);
        });
        const amountInput = form.querySelector("input[name=amount]");
        if (amountInput && number(amountInput.value) < total) amountInput.value = total.toFixed(digits);
        table.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });

    // The amount's currency follows the customer chosen in the picker.
    root.querySelectorAll("[data-payment-form] select[name=customer]").forEach((select) => {
      if (select.dataset.currencyReady) return;
      select.dataset.currencyReady = "1";
      select.addEventListener("change", () => {
        const option = select.selectedOptions[0];
        const label = select.closest("form").querySelector("[data-currency-label]");
        if (label && option && option.dataset.currency) label.textContent = option.dataset.currency;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => setupAllocations(document));
  document.addEventListener("htmx:afterSettle", (event) => setupAllocations(event.detail.elt));
})();
