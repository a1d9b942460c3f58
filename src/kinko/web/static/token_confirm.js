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
  mismatch: window.KinkoWebAuthn.say("other_token"),
  done: function (done) {
    return window.KinkoWebAuthn.say(
      "token_done", { token: done.token.name, person: done.approved_by },
    );
  },
});
