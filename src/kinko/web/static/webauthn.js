// WebAuthn plumbing shared by the sign-in, enrolment, device-login and approval pages
// (each loads this script before its own): base64url, the JSON
// the server's py_webauthn options and responses use, and errors a person can act on.
// No inline script anywhere (strict CSP); no third-party code.
"use strict";

window.KinkoWebAuthn = (function () {
  let words = null;

  // A sentence in the page's language (kinko.web.script_words, handed over by the layout
  // as a JSON data block), its %(name)s places filled with `values` as plain text.
  function say(key, values) {
    if (words === null) {
      const block = document.getElementById("kinko-words");
      try { words = block ? JSON.parse(block.textContent) : {}; } catch (ignored) { words = {}; }
    }
    const text = words[key] || key;
    return text.replace(/%\((\w+)\)s/g, (whole, name) => (
      values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole
    ));
  }

  // A value shown as a word (a withdrawal's or a proposal's state), in the page's language.
  function word(value) {
    const key = "word:" + value;
    return say(key) === key ? String(value).replace(/_/g, " ") : say(key);
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

  async function postJSON(url, body, csrf) {
    const headers = { "Content-Type": "application/json" };
    if (csrf) { headers["X-CSRF-Token"] = csrf; }
    const response = await fetch(url, {
      method: "POST", headers: headers, credentials: "same-origin", body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (ignored) { data = {}; }
    if (!response.ok) {
      const error = new Error(
        data.localised || data.message || say("server_answered", { status: response.status }),
      );
      error.code = data.error;
      throw error;
    }
    return data;
  }

  function descriptors(list) {
    return (list || []).map((c) => ({
      type: c.type, id: b64urlToBytes(c.id), transports: c.transports,
    }));
  }

  // PublicKeyCredentialCreationOptions from the server's JSON (options_to_json).
  function creationOptions(options) {
    return {
      challenge: b64urlToBytes(options.challenge),
      rp: options.rp,
      user: {
        id: b64urlToBytes(options.user.id),
        name: options.user.name,
        displayName: options.user.displayName,
      },
      pubKeyCredParams: options.pubKeyCredParams,
      timeout: options.timeout,
      excludeCredentials: descriptors(options.excludeCredentials),
      authenticatorSelection: options.authenticatorSelection,
      attestation: options.attestation || "none",
    };
  }

  function requestOptions(options) {
    return {
      challenge: b64urlToBytes(options.challenge),
      rpId: options.rpId,
      timeout: options.timeout,
      userVerification: options.userVerification,
      allowCredentials: descriptors(options.allowCredentials),
    };
  }

  // RegistrationResponseJSON / AuthenticationResponseJSON, as the server verifies them.
  function registrationJSON(credential) {
    const response = credential.response;
    return {
      id: credential.id,
      rawId: bytesToB64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: bytesToB64url(response.clientDataJSON),
        attestationObject: bytesToB64url(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : [],
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    };
  }

  function assertionJSON(assertion) {
    const response = assertion.response;
    return {
      id: assertion.id,
      rawId: bytesToB64url(assertion.rawId),
      type: assertion.type,
      response: {
        clientDataJSON: bytesToB64url(response.clientDataJSON),
        authenticatorData: bytesToB64url(response.authenticatorData),
        signature: bytesToB64url(response.signature),
        userHandle: response.userHandle ? bytesToB64url(response.userHandle) : null,
      },
      clientExtensionResults: {},
    };
  }

  // Why the page cannot use a security key here, or null. `origin` is Kinko's WebAuthn
  // origin (webauthn_origin): a browser signs only for the relying party of that address.
  function wrongPlace(origin) {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      return say("no_keys");
    }
    if (origin && window.location.origin !== origin) {
      return say("wrong_origin", {
        address: origin + window.location.pathname, here: window.location.origin,
      });
    }
    return null;
  }

  // A person-readable reason for a browser's WebAuthn DOMException (or the server's error).
  function explain(error, rpId) {
    switch (error && error.name) {
      case "NotAllowedError":
      case "InvalidStateError":
      case "NotSupportedError":
        return say(error.name);
      case "SecurityError":
        return say("SecurityError", { rp_id: rpId });
      default:
        return (error && error.message) || String(error);
    }
  }

  // Say how an action ended in the page's status box (hidden until then).
  function showResult(boxId, text, failed) {
    const box = document.getElementById(boxId);
    box.textContent = text;
    box.className = failed ? "error" : "ok";
    box.hidden = false;
  }

  return {
    say: say,
    word: word,
    showResult: showResult,
    b64urlToBytes: b64urlToBytes,
    bytesToB64url: bytesToB64url,
    postJSON: postJSON,
    creationOptions: creationOptions,
    requestOptions: requestOptions,
    registrationJSON: registrationJSON,
    assertionJSON: assertionJSON,
    wrongPlace: wrongPlace,
    explain: explain,
  };
}());
