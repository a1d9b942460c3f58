// Device login: approve `kinko login` with a fresh assertion over a challenge that Kinko
// binds to this request (its code, the device, you, a one-time nonce). Served after
// confirm.js, in the same file, which does it.
"use strict";

window.KinkoConfirm.wire({
  button: "device-approve", result: "device-result", deny: "device-deny",
  api: "/v1/auth/device",
  shows: function () { return true; },
  mismatch: window.KinkoWebAuthn.say("other_code"),
  done: function (done) {
    return window.KinkoWebAuthn.say(
      "device_done", { client: done.client, person: done.approved_by },
    );
  },
});
