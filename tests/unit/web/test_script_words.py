"""Every sentence the console's scripts ask for is in the table the layout hands them
(kinko.web.script_words), with the places the script fills."""

from __future__ import annotations

import re
from pathlib import Path

from kinko.web.script_words import SENTENCES, script_words

STATIC = Path(__file__).resolve().parents[3] / "src" / "kinko" / "web" / "static"
# say("key") or say("key", { a: ..., b: ... }) in the scripts
ASKED = re.compile(r'\bsay\(\s*"(?P<key>\w+)"(?:\s*,\s*\{(?P<values>[^}]*)\})?')
EXPLAINED = ("NotAllowedError", "InvalidStateError", "NotSupportedError", "SecurityError")


def asked() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for script in STATIC.glob("*.js"):
        for hit in ASKED.finditer(script.read_text()):
            names = set(re.findall(r"(\w+)\s*:", hit.group("values") or ""))
            found.setdefault(hit.group("key"), set()).update(names)
    return found


def test_every_sentence_a_script_asks_for_exists_with_the_places_it_fills() -> None:
    wanted = asked()
    assert len(wanted) >= 15, wanted  # the scripts do ask (the pattern finds them)
    for key, names in wanted.items():
        assert key in SENTENCES, f"{key!r} is said by a script but not in SENTENCES"
        places = set(re.findall(r"%\((\w+)\)s", SENTENCES[key]))
        assert places == names, (key, places, names)
    assert set(EXPLAINED) <= set(SENTENCES)  # explain(error) says them by the error's name
    unused = set(SENTENCES) - set(wanted) - set(EXPLAINED)
    assert not unused, f"sentences no script says: {sorted(unused)}"


def test_the_table_translates_sentences_and_words() -> None:
    table = script_words(lambda text: text.upper())
    assert table["approved"] == "APPROVED."
    assert table["word:pending_approval"] == "PENDING APPROVAL"
