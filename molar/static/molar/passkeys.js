// Passkeys (SPEC K2). The server's WebAuthn options are in a JSON script
// element; the browser's answer goes back in the form's hidden "credential"
// field and the form is submitted as usual. Without JavaScript or WebAuthn
// the passkey button stays hidden and codes still work.
(function () {
  "use strict";

  function fromBase64url(text) {
    let base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    let binary = "";
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function publicKeyOptions(options, creating) {
    options.challenge = fromBase64url(options.challenge);
    if (creating) options.user.id = fromBase64url(options.user.id);
    for (const credential of options.excludeCredentials || options.allowCredentials || []) {
      credential.id = fromBase64url(credential.id);
    }
    return options;
  }

  function serialize(credential) {
    const response = credential.response;
    const out = {
      id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      out.response.attestationObject = toBase64url(response.attestationObject);
      if (response.getTransports) out.response.transports = response.getTransports();
    } else {
      out.response.authenticatorData = toBase64url(response.authenticatorData);
      out.response.signature = toBase64url(response.signature);
      if (response.userHandle) out.response.userHandle = toBase64url(response.userHandle);
    }
    return JSON.stringify(out);
  }

  function wire(button) {
    const status = document.getElementById(button.dataset.status);
    if (!window.PublicKeyCredential || !navigator.credentials) {
      status.textContent = "This browser cannot use passkeys.";
      return;
    }
    button.hidden = false;
    button.addEventListener("click", async function (event) {
      event.preventDefault();
      const creating = button.dataset.passkey === "create";
      const options = JSON.parse(document.getElementById(button.dataset.options).textContent);
      try {
        const publicKey = publicKeyOptions(options, creating);
        const credential = creating
          ? await navigator.credentials.create({ publicKey })
          : await navigator.credentials.get({ publicKey });
        button.form.elements.credential.value = serialize(credential);
        button.form.submit();
      } catch (error) {
        status.textContent = "The passkey was not used (" + error.name + "). Try again" +
          (creating ? "." : ", or enter a code.");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-passkey]").forEach(wire);
  });
})();
