// Copy buttons: <button data-copy-target="input-id" data-copied-label="Copied" hidden>.
// Without JavaScript the button stays hidden and the text stays selectable.
(function () {
  "use strict";
  document.querySelectorAll("[data-select-on-focus]").forEach((input) => {
    input.addEventListener("focus", () => input.select());
  });

  async function copy(source) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(source.value);
      return true;
    }
    // Plain http (not localhost): the older way, from a selection.
    source.focus();
    source.select();
    return document.execCommand("copy");
  }

  document.querySelectorAll("[data-copy-target]").forEach((button) => {
    const source = document.getElementById(button.dataset.copyTarget);
    const label = button.querySelector("span");
    if (!source || !label) return;
    const original = label.textContent;
    button.hidden = false;
    button.addEventListener("click", async () => {
      let copied = false;
      try { copied = await copy(source); } catch (error) { copied = false; }
      if (!copied) { source.focus(); source.select(); return; }
      label.textContent = button.dataset.copiedLabel || original;
      setTimeout(() => { label.textContent = original; }, 2000);
    });
  });
})();
