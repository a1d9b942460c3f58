// Confirm a new API token (`kinko token create`): a fresh assertion over a challenge that
// Kinko binds to exactly this token's terms (owner, name, permissions, assets, lifetime,
// allowlist, this request) and a one-time nonce. Served after confirm.js, in the same file,
// which does it.
"use strict";

window.KinkoConfirm.wire({
  button: "token-confirm", result: "token-result", deny: "token-deny",
  api: "/v1/tokens/requests",
  shows: function (request) {
    return request.token.name === document.getElementById("token-name").textContent;
  },
  mismatch: "the server's challenge is for another token than this page shows",
  done: function (done) {
    return "Confirmed: token " + done.token.name + " is created for " + done.approved_by
      + ". Go back to your terminal (it prints the token once); you can close this page.";
  },
});
