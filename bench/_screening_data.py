"""Synthetic data for the screening benchmark: an OFAC advanced XML file, list names,
people to screen with labelled variants. Deterministic (seeded)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from embit import base58

from kinko.screening.names import ROMANISATION


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


KOREAN_SURNAMES = _words(
    "KIM RI PAK CHOE JONG KANG JO YUN JANG RIM HAN O SO SIN KWON HWANG AN SONG JON HONG "
    "RYU KO MUN YANG SON PAE PAEK HO NAM SIM NO HA KWAK CHA JU U KU MIN"
)
KOREAN_SYLLABLES = _words(
    "JIN HYOK CHOL YONG SONG IL SU MIN JUN HYON HO KYONG HUI SUN MI OK NAM GIL CHANG "
    "MYONG KWANG SOK HAK JONG UN DOK CHUN TAE SE GYU RYONG BOK SIK HWAN SAM CHIL MAN "
    "PYO IK GUK HYANG RAN"
)
_ONSETS = _words("b ch d f g h j k l m n p r s sh t v z")
_VOWELS = _words("a e i o u ai ia ou")
_CODAS = ("", "", "n", "r", "s", "l", "m", "k")
_ENDINGS = {
    "ru": ("ov", "ev", "in", "sky", "enko"),
    "ar": ("", "i", "ah", "din"),
    "west": ("", "son", "er", "ton", "ley"),
    "zh": ("",),
}
_SOUTH: dict[str, list[str]] = {}
for _south, _north in ROMANISATION.items():
    _SOUTH.setdefault(_north.upper(), []).append(_south.upper())


def _token(rng: random.Random, syllables: int, culture: str) -> str:
    word = "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
    )
    return (word + rng.choice(_ENDINGS[culture])).upper()


def _pool(seed: int, culture: str, size: int, syllables: tuple[int, int]) -> tuple[str, ...]:
    rng = random.Random(seed)
    return tuple(sorted({_token(rng, rng.randint(*syllables), culture) for _ in range(size)}))


POOLS = {
    culture: (_pool(n, culture, 1500, (1, 2)), _pool(n + 100, culture, 1500, (1, 3)))
    for n, culture in enumerate(("ru", "ar", "west", "zh"))
}


def random_name(rng: random.Random) -> str:
    """A person's name: Korean-style from real syllables, others from generated pools."""
    if rng.random() < 0.35:
        given = rng.choice(KOREAN_SYLLABLES) + " " + rng.choice(KOREAN_SYLLABLES)
        return f"{rng.choice(KOREAN_SURNAMES)} {given}"
    family, given_pool = POOLS[rng.choice(("ru", "ar", "west", "zh"))]
    names = [rng.choice(given_pool) for _ in range(rng.choice((1, 1, 2)))]
    return " ".join([rng.choice(family), *names])


def variant(name: str, rng: random.Random) -> str:
    """A realistic rewriting of a list name, as a customer might write it.

    One or two of: a South Korean romanisation, given names hyphenated or joined, the
    family name moved last, one transposition typo; in that order, then random case.
    """
    tokens = name.split()
    operations = set(rng.sample(("romanise", "join", "reorder", "typo"), rng.randint(1, 2)))
    if "romanise" in operations:
        i = rng.randrange(len(tokens))
        options = _SOUTH.get(tokens[i].upper())
        if options:
            tokens[i] = rng.choice(options)
    if "join" in operations and len(tokens) == 3:
        tokens = [tokens[0], tokens[1] + rng.choice(["-", ""]) + tokens[2].lower()]
    if "reorder" in operations and len(tokens) > 1:
        tokens = tokens[1:] + tokens[:1]
    if "typo" in operations:
        long = [i for i, t in enumerate(tokens) if len(t) >= 5]
        if long:
            i = rng.choice(long)
            t = tokens[i]
            j = rng.randrange(1, len(t) - 1)
            tokens[i] = t[:j] + t[j + 1] + t[j] + t[j + 2 :]
    text = " ".join(tokens)
    return text.title() if rng.random() < 0.5 else text


def _btc_address(rng: random.Random) -> str:
    return str(base58.encode_check(b"\x00" + rng.randbytes(20)))


def _eth_address(rng: random.Random) -> str:
    return "0x" + rng.randbytes(20).hex()


def _party(number: int, name: str, rng: random.Random, addresses: list[tuple[int, str]]) -> str:
    ref = 100000 + number
    family, _, given = name.partition(" ")
    aliases = "".join(
        f'<Alias FixedRef="{ref}" AliasTypeID="1400" Primary="false" LowQuality="false">'
        f'<DocumentedName ID="{ref}{k}" FixedRef="{ref}" DocNameStatusID="2">'
        f'<DocumentedNamePart><NamePartValue NamePartGroupID="{ref}{k}1" ScriptID="215" '
        f'ScriptStatusID="1" Acronym="false">{random_name(rng)}</NamePartValue>'
        "</DocumentedNamePart></DocumentedName></Alias>\n"
        for k in range(rng.randint(0, 3))
    )
    features = "".join(
        f'<Feature ID="{ref}{k}" FeatureTypeID="{ftype}"><FeatureVersion ID="{ref}{k}" '
        f'ReliabilityID="1"><Comment /><VersionDetail DetailTypeID="1432">{value}'
        "</VersionDetail></FeatureVersion></Feature>\n"
        for k, (ftype, value) in enumerate(addresses)
    )
    # Real parties carry locations, documents and remarks that are streamed past; pad the
    # same way so the file has the real file's size per party.
    padding = "".join(
        f'<Feature ID="{ref}9{k}" FeatureTypeID="25"><FeatureVersion ID="{ref}9{k}" '
        'ReliabilityID="1"><Comment>Address line as published, street and district, city, '
        "province, country; additional remarks kept for reference</Comment>"
        '<VersionLocation LocationID="31001" /></FeatureVersion></Feature>\n'
        for k in range(rng.randint(8, 16))
    )
    return (
        f'<DistinctParty FixedRef="{ref}"><Comment />\n<Profile ID="{ref}" PartySubTypeID="4">\n'
        f'<Identity ID="{ref}" FixedRef="{ref}" Primary="true" False="false">\n'
        f'<Alias FixedRef="{ref}" AliasTypeID="1403" Primary="true" LowQuality="false">'
        f'<DocumentedName ID="{ref}" FixedRef="{ref}" DocNameStatusID="1">'
        f'<DocumentedNamePart><NamePartValue NamePartGroupID="{ref}1" ScriptID="215" '
        f'ScriptStatusID="1" Acronym="false">{family}</NamePartValue></DocumentedNamePart>'
        f'<DocumentedNamePart><NamePartValue NamePartGroupID="{ref}2" ScriptID="215" '
        f'ScriptStatusID="1" Acronym="false">{given}</NamePartValue></DocumentedNamePart>'
        "</DocumentedName></Alias>\n"
        f"{aliases}</Identity>\n{features}{padding}</Profile></DistinctParty>\n"
    )


def write_advanced_xml(path: Path, *, target_bytes: int, seed: int = 5) -> tuple[int, list[str]]:
    """Write a synthetic sdn_advanced.xml of about `target_bytes`; return (parties, ETH keys)."""
    rng = random.Random(seed)
    eth: list[str] = []
    header = (FIXTURE_HEAD).encode()
    parties = 0
    with path.open("wb") as out:
        out.write(header)
        written = len(header)
        entries: list[str] = []
        while written < target_bytes:
            addresses: list[tuple[int, str]] = []
            if rng.random() < 0.3:
                for _ in range(rng.randint(1, 4)):
                    if rng.random() < 0.5:
                        address = _eth_address(rng)
                        eth.append(address)
                        addresses.append((345, address))
                    else:
                        addresses.append((344, _btc_address(rng)))
            chunk = _party(parties, random_name(rng), rng, addresses).encode()
            out.write(chunk)
            written += len(chunk)
            entries.append(
                f'<SanctionsEntry ID="{100000 + parties}" ProfileID="{100000 + parties}" '
                'ListID="1550"><SanctionsMeasure ID="1" SanctionsTypeID="1"><Comment>CYBER2'
                "</Comment></SanctionsMeasure></SanctionsEntry>\n"
            )
            parties += 1
        out.write(b"</DistinctParties>\n<SanctionsEntries>\n")
        out.write("".join(entries).encode())
        out.write(b"</SanctionsEntries>\n</Sanctions>\n")
    return parties, eth


FIXTURE_HEAD = """<?xml version="1.0" encoding="utf-8"?>
<Sanctions xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML">
<DateOfIssue><Year>2026</Year><Month>11</Month><Day>20</Day></DateOfIssue>
<ReferenceValueSets><FeatureTypeValues>
<FeatureType ID="25">Location</FeatureType>
<FeatureType ID="344">Digital Currency Address - XBT</FeatureType>
<FeatureType ID="345">Digital Currency Address - ETH</FeatureType>
</FeatureTypeValues><SanctionsTypeValues><SanctionsType ID="1">Program</SanctionsType>
</SanctionsTypeValues></ReferenceValueSets>
<Locations><Location ID="31001"><LocationCountry CountryID="1" /></Location></Locations>
<DistinctParties>
"""


def people(
    list_names: list[str], count: int, positives: int, rng: random.Random
) -> Iterator[tuple[str, int | None]]:
    """`count` names to screen; `positives` of them variants of list name #i (i given)."""
    chosen = set(rng.sample(range(count), positives))
    for n in range(count):
        if n in chosen:
            target = rng.randrange(len(list_names))
            yield variant(list_names[target], rng), target
        else:
            yield random_name(rng), None
