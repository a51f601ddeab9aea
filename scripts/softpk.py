"""A software passkey for scripts/passkeys_e2e.py: PyPI's soft-webauthn (0.1.4), which
no one here wrote, driven from the WebAuthn *JSON* forms the API speaks.

soft-webauthn's SoftWebauthnDevice makes the credential: a P-256 key (cryptography),
a random credential id, the 'none' attestation object and the COSE key (fido2's CBOR),
the sign counter. It takes the old bytes-valued options ({"publicKey": {"challenge":
bytes, ...}}) and returns bytes-valued dicts; the API sends
PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON and takes what a browser's
credential.toJSON() gives (base64url without padding). This module converts between
the two, and rewrites what the library cannot be asked for:

- UV: soft-webauthn never sets the user-verified flag (it answers flags 0x41 at
  registration, 0x01 at sign-in) and the API requires it, so even the good case sets
  it here: at registration by rewriting the flags byte of the (unsigned, 'none'
  attestation) authenticator data and re-encoding the attestation object with fido2's
  CBOR; at sign-in by rebuilding the authenticator data and signing it again with the
  device's own private key (dev.private_key, ECDSA P-256 / SHA-256 by cryptography),
  exactly what the device itself signs, only with other flags.
- The refusals to test at sign-in: other flags (UV not set), another RP ID (an
  authenticator scoped to another site: another rpIdHash), a counter of our choice,
  another user handle, a broken signature; each re-signed the same way. Another origin
  needs no rewriting (the library writes the origin it is given in its clientDataJSON),
  nor another RP ID at registration (the library is given options with another rp.id).

Everything else (the key, the credential id, the user handle, the counter, the COSE
key, the signature's algorithm, the clientDataJSON) is the library's. Its
clientDataJSON is json.dumps()'s ('{"type": "webauthn.get", ...}', spaces after the
separators, no crossOrigin), not a browser's compact serialisation: the relying party
must parse it as JSON, as WebAuthn's verification steps say (the browser test sends a
browser's).
"""

import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.utils import sha256
from soft_webauthn import SoftWebauthnDevice

# Authenticator data flags (WebAuthn Level 3, 6.1).
UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64u(b: bytes) -> str:
    return urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def unb64u(s: str) -> bytes:
    return urlsafe_b64decode(s + "=" * (-len(s) % 4))


class SoftPasskey:
    """One passkey (soft-webauthn's device holds one credential)."""

    def __init__(self):
        self.dev = SoftWebauthnDevice()

    @property
    def id(self) -> str:
        """The credential id as the API names a passkey (credential.id)."""
        return b64u(self.dev.credential_id)

    @property
    def user_handle(self) -> bytes:
        return self.dev.user_handle

    def create(self, pk: dict, origin: str, *, flags=UP | UV | AT, rp_id=None) -> dict:
        """navigator.credentials.create(): pk is the server's publicKey (creation options
        JSON); answers the RegistrationResponseJSON a browser's toJSON() gives."""
        opts = {"publicKey": dict(pk)}
        opts["publicKey"]["challenge"] = unb64u(pk["challenge"])
        opts["publicKey"]["user"] = dict(pk["user"], id=unb64u(pk["user"]["id"]))
        if rp_id is not None:  # an authenticator scoped to another RP ID
            opts["publicKey"]["rp"] = dict(pk["rp"], id=rp_id)
        cred = self.dev.create(opts, origin)  # checks ES256 offered and attestation none
        att = cbor.decode(cred["response"]["attestationObject"])
        auth_data = bytearray(att["authData"])
        # rpIdHash (32) | flags (1) | signCount (4) | attested credential data. 'none'
        # attestation signs nothing, so the flags are rewritten in place (UV: see above).
        auth_data[32] = flags
        att["authData"] = bytes(auth_data)
        return {
            "id": b64u(cred["rawId"]),
            "rawId": b64u(cred["rawId"]),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(cred["response"]["clientDataJSON"]),
                "attestationObject": b64u(cbor.encode(att)),
                "transports": ["internal"],
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }

    def get(self, pk: dict, origin: str, *, flags=UP | UV, counter=None, rp_id=None,
            user_handle=None, sign_ok=True) -> dict:
        """navigator.credentials.get(): pk is the server's publicKey (request options
        JSON); answers the AuthenticationResponseJSON. counter None: the device's next."""
        opts = {"publicKey": dict(pk, challenge=unb64u(pk["challenge"]))}
        opts["publicKey"].setdefault("rpId", self.dev.rp_id)
        a = self.dev.get(opts, origin)  # checks the RP ID, bumps dev.sign_count; flags UP only
        client_data = a["response"]["clientDataJSON"]
        count = self.dev.sign_count if counter is None else counter
        # The device's authenticator data with our flags (UV), then its signature again,
        # with its own key, over authenticatorData || SHA-256(clientDataJSON).
        auth_data = sha256((rp_id or self.dev.rp_id).encode()) + bytes([flags]) + struct.pack(">I", count)
        sig = self.dev.private_key.sign(auth_data + sha256(client_data), ec.ECDSA(hashes.SHA256()))
        if not sign_ok:
            sig = sig[:-1] + bytes([sig[-1] ^ 1])
        uh = a["response"]["userHandle"] if user_handle is None else user_handle
        return {
            "id": b64u(a["rawId"]),
            "rawId": b64u(a["rawId"]),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(client_data),
                "authenticatorData": b64u(auth_data),
                "signature": b64u(sig),
                "userHandle": b64u(uh),
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }
