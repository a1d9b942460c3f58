// Device login: approve `kinko login` with a fresh assertion over a challenge that Kinko
// binds to this request (its code, the device, you, a one-time nonce). Served after
// confirm.js, in the same file, which does it.
"use strict";

window.KinkoConfirm.wire({
  button: "device-approve", result: "device-result", deny: "device-deny",
  api: "/v1/auth/device",
  shows: function () { return true; },
  mismatch: "the server's challenge is for another code than this page shows",
  done: function (done) {
    return "Approved: " + done.client + " is signed in as " + done.approved_by
      + ". Go back to your terminal; you can close this page.";
  },
});
