// Optional: answer USSD hops without reloading the page. Without it the forms still work.
(function () {
  var form = document.getElementById("ussd-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var screen = document.getElementById("screen");
  var input = document.getElementById("input");
  var send = document.getElementById("send");
  var inbox = document.getElementById("inbox");

  function showInbox(rows) {
    inbox.textContent = "";
    if (!rows.length) { var e = document.createElement("li"); e.textContent = "No SMS yet."; inbox.appendChild(e); }
    rows.forEach(function (m) {
      var li = document.createElement("li");
      var meta = document.createElement("span");
      meta.className = "muted";
      meta.textContent = m.at + " · " + m.status;
      li.appendChild(meta);
      li.appendChild(document.createElement("br"));
      li.appendChild(document.createTextNode(m.body));
      inbox.appendChild(li);
    });
  }

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || button.value === "hangup") { return; }
    event.preventDefault();
    var data = new FormData(form);
    data.set("action", button.value);
    fetch(form.action, { method: "POST", body: data, headers: { "Accept": "application/json" },
                         credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (hop) {
        screen.textContent = hop.screen;
        form.elements.sessionId.value = hop.sessionId;
        form.elements.text.value = hop.text;
        input.value = "";
        input.disabled = send.disabled = hop.ended;
        if (!hop.ended) { input.focus(); }
        showInbox(hop.inbox);
      })
      .catch(function () { form.submit(); });
  });
})();
