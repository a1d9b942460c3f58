// Withdrawal approval: a WebAuthn assertion whose challenge is the transaction digest
// shown on the page, posted with the session's CSRF token. No inline script (strict CSP).
"use strict";

(function () {
  function hexToBytes(hex) {
    if (!/^([0-9a-f]{2})+$/.test(hex)) { throw new Error("the digest on this page is not hex"); }
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i += 1) {
      bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
    }
    return bytes;
  }

  function b64urlToBytes(text) {
    const pad = "=".repeat((4 - (text.length % 4)) % 4);
    const raw = atob((text + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function bytesToB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let raw = "";
    bytes.forEach((b) => { raw += String.fromCharCode(b); });
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function show(text, failed) {
    const box = document.getElementById("approve-result");
    box.textContent = text;
    box.className = failed ? "error" : "ok";
    box.hidden = false;
  }

  async function approve(event) {
    const button = event.currentTarget;
    const data = button.dataset;
    button.disabled = true;
    try {
      const ids = (data.credentials || "").split(",").filter((id) => id.length > 0);
      const assertion = await navigator.credentials.get({
        publicKey: {
          challenge: hexToBytes(data.digest),
          rpId: data.rpId,
          userVerification: "required",
          timeout: 120000,
          allowCredentials: ids.map((id) => ({ type: "public-key", id: b64urlToBytes(id) })),
        },
      });
      const body = {
        assertion: {
          id: assertion.id,
          rawId: bytesToB64url(assertion.rawId),
          type: assertion.type,
          response: {
            clientDataJSON: bytesToB64url(assertion.response.clientDataJSON),
            authenticatorData: bytesToB64url(assertion.response.authenticatorData),
            signature: bytesToB64url(assertion.response.signature),
            userHandle: assertion.response.userHandle
              ? bytesToB64url(assertion.response.userHandle) : null,
          },
          clientExtensionResults: {},
        },
      };
      const response = await fetch(
        "/v1/withdrawals/" + encodeURIComponent(data.approve) + "/approve",
        {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": data.csrf },
          body: JSON.stringify(body),
        },
      );
      const answer = await response.json();
      if (!response.ok) { throw new Error(answer.message || "approval refused"); }
      show("Approved. The withdrawal is now " + answer.state + ".", false);
    } catch (error) {
      show(error.message, true);
      button.disabled = false;
    }
  }

  document.querySelectorAll("button[data-approve]").forEach((button) => {
    button.addEventListener("click", approve);
  });
}());
