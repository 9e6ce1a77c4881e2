// Copy buttons: <button data-copy="text" data-copied="Copied" hidden>Copy</button>.
// Progressive enhancement: the button stays hidden without JavaScript or without the
// Clipboard API (plain http other than localhost), and the text beside it stays selectable.
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) return;
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () {
        button.textContent = button.dataset.copied || label;
        setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });
})();
