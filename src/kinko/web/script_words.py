"""What the console's own scripts say, in the reader's language (pure: the caller passes
the catalogue's ``gettext``).

The scripts (``web/static/*.js``) run after the page is rendered, so they cannot call
gettext. The layout hands them this table instead, translated for the request, as a JSON
data block (``<script type="application/json" id="kinko-words">``, which a browser never
runs); ``KinkoWebAuthn.say(key, values)`` looks a sentence up and fills its
``%(name)s`` places. The keys are the scripts' own names for their sentences; the
values are the English msgids, marked for extraction (``N_``). A key a script asks for
and the table lacks is a test failure (tests/unit/web/test_script_words.py), never a
blank in the page.

The values words take (a withdrawal's or a proposal's state) are words of
`kinko.web.words.WORDS`, handed over as ``word:<value>``.
"""

from __future__ import annotations

from typing import Final

from kinko.web.words import N_, WORDS, Gettext

SENTENCES: Final = {
    # webauthn.js: why a security key cannot be used on this page
    "no_keys": N_(
        "This browser offers no security keys on this page: open Kinko over https "
        "(or at http://localhost) in a current browser."
    ),
    "wrong_origin": N_(
        "Open this page at %(address)s: Kinko's security keys work only there "
        "(this page is %(here)s)."
    ),
    # webauthn.js: a browser's WebAuthn errors (DOMException names), in words
    "NotAllowedError": N_(
        "The security key did not answer: the request was cancelled or timed out. "
        "Try again and touch the key when it blinks."
    ),
    "InvalidStateError": N_(
        "This authenticator is already enrolled for this account: sign in with it "
        "instead, or use another key."
    ),
    "SecurityError": N_(
        'The browser refused the relying party %(rp_id)s for this address ("invalid '
        'domain"): open Kinko at the address its administrator configured.'
    ),
    "NotSupportedError": N_(
        "This authenticator supports none of the algorithms Kinko accepts; use another "
        "security key or a passkey."
    ),
    "server_answered": N_("The server answered %(status)s."),
    # console.js: signing in
    "sign_in_failed": N_("Sign-in failed."),
    # enrol.js
    "touch_key": N_("Touch your security key (or confirm the passkey) now."),
    "enrolled": N_("Enrolled. You are signed in as %(username)s."),
    # approve.js: a withdrawal's approval
    "no_challenge": N_("Kinko issued no approval challenge."),
    "other_digest": N_(
        "The server's challenge is for another digest than this page shows: do not "
        "approve; tell your security team."
    ),
    "approval_refused": N_("The approval was refused."),
    "withdrawal_now": N_("Approved. The withdrawal is now %(state)s."),
    # vote.js: a four-eyes vote
    "other_content": N_(
        "The server's challenge is for other content than this page shows: reload it."
    ),
    "proposal_now": N_("Approved: the proposal is %(state)s."),
    "approved": N_("Approved."),
    # device.js: `kinko login`
    "other_code": N_("The server's challenge is for another code than this page shows."),
    "device_done": N_(
        "Approved: %(client)s is signed in as %(person)s. Go back to your terminal; you "
        "can close this page."
    ),
    # token_confirm.js: `kinko token create`
    "other_token": N_("The server's challenge is for another token than this page shows."),
    "token_done": N_(
        "Confirmed: token %(token)s is created for %(person)s. Go back to your terminal "
        "(it prints the token once); you can close this page."
    ),
}


def script_words(gettext: Gettext) -> dict[str, str]:
    """The scripts' sentences and the words of `WORDS` (as ``word:<value>``), translated."""
    table = {key: gettext(msgid) for key, msgid in SENTENCES.items()}
    table.update({f"word:{value}": gettext(msgid) for value, msgid in WORDS.items()})
    return table
