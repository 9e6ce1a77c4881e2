// Settings (connections, API keys, members) and a shipment's tracking link: ask before a form
// marked data-confirm revokes or removes something. Without JavaScript the form simply posts; the server checks everything.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
