"""The incidents (pure descriptions): what happened, with the figures the public sources
give, and what each replay stands on. Every figure below is taken from the sources listed
with it; where they disagree, the exchange's or investigators' own statement is used.
"""

from __future__ import annotations

from types import MappingProxyType

from kinko.replays.model import Historical, Scenario, Source

ETH = 10**18
REPLAYED_ON = "ethereum/devnet (eth-tester, py-evm): Kinko's in-process chain"
HOT_CAP = 100 * ETH  # the hot wallet's holding in the bounded replays (kept by rebalancing)
RAW_KEY = (
    "the thief holds the hot wallet's raw key and signs outside Kinko: no control of Kinko's "
    "stops a transaction signed that way; Kinko bounds it (the hot wallet holds only its cap) "
    "and detects it"
)

DMM_BITCOIN = Scenario(
    name="dmm-bitcoin-2024",
    title="DMM Bitcoin, 2024-05-31: a legitimate withdrawal altered before it was signed",
    summary=(
        "A wallet vendor's (Ginco) employee was phished by a fake recruiter; the attacker "
        "used the hijacked session to alter a legitimate withdrawal request of DMM Bitcoin "
        "before it was signed, and 4,502.9 BTC went to the attacker."
    ),
    historical=Historical(
        date="2024-05-31",
        chain="bitcoin",
        loss="4,502.9 BTC (about ¥48.2bn, $305-308M)",
        detection="detected by DMM at about 13:26 JST the same day (the outflow itself)",
        detection_s=None,
        sources=(
            Source(
                "FBI, DC3 and NPA: TraderTraitor responsible for theft of $308M from "
                "Bitcoin.DMM.com (2024-12-23)",
                "https://www.fbi.gov/news/press-releases/fbi-dc3-and-npa-identification-of-"
                "north-korean-cyber-actors-tracked-as-tradertraitor-responsible-for-theft-of-"
                "308-million-from-bitcoindmmcom",
            ),
            Source(
                "DMM Bitcoin announcement of 2024-05-31 (as reported by Nikkei / softantenna)",
                "https://softantenna.com/blog/dmm-bitcoin",
            ),
        ),
    ),
    replayed_on=(
        "bitcoin/regtest: Kinko's Bitcoin adapter (PSBTs built with BDK from the wallet's "
        "descriptor, co-signed offline with kinko cosign); synthetic UTXOs, no node: nothing "
        "is broadcast"
    ),
    substitution=(
        "DMM's hot wallet as Kinko's cold P2WSH 2-of-3 wallet (Kinko's Bitcoin wallets are "
        "co-signed offline; it has no hot Bitcoin wallet); the loss is what the fully signed "
        "transactions released would pay the thief"
    ),
    attempted_units=450_290_000_000,  # 4,502.9 BTC in satoshis
    hot_cap_units=None,
    not_prevented=(
        "the attacker's foothold at the wallet vendor and the altered record itself: Kinko "
        "refuses to sign it, it cannot stop it being written",
        "the key holders' kinko cosign refuses offline and records nothing in Kinko: no audit "
        "entry, no freeze, no alert; the altered withdrawal stays approved until a person "
        "cancels it and freezes the wallet",
    ),
)

BYBIT = Scenario(
    name="bybit-2025",
    title="Bybit, 2025-02-21: signers approved a delegatecall that replaced the wallet's logic",
    summary=(
        "A Safe{Wallet} developer's machine was compromised and the signing page's "
        "JavaScript swapped; Bybit's signers approved what looked like a routine cold-to-warm "
        "transfer, really a Safe execTransaction with operation=1 (delegatecall) that "
        "replaced the wallet's implementation; about 401,346 ETH were then drained. On "
        "chain: the Safe 0x1Db92e2EeBC8E0c075a02BeA49a2935BcD2dFCF4 delegatecalled "
        "`transfer(address,uint256)` on the attacker's 0x96221423681A6d52E184D440a8eFCEbB105C7242, "
        "which wrote 0xbDd077f651EBe7f7b3cE16fe5F2b025BE2969516 (sweepETH, sweepERC20) into "
        "the Safe's slot 0."
    ),
    historical=Historical(
        date="2025-02-21",
        chain="ethereum",
        loss="about 401,346 ETH plus staked-ETH tokens (about $1.46bn)",
        detection="within the hour (ZachXBT flagged the outflow; Bybit's CEO confirmed)",
        detection_s=None,
        sources=(
            Source(
                "Odaily: Bybit cold wallet theft analysis (attack at 14:16:11 UTC, 401,346 ETH)",
                "https://m.odaily.news/en/post/5201902",
            ),
            Source(
                "Multisight: Bybit incident explained (Safe developer machine, AWS session)",
                "https://multisight.app/blog/bybit-incident-explained",
            ),
            Source(
                "Safe{Wallet} and Mandiant post-mortem (2025-03-06): hijacked AWS session "
                "tokens, failed MFA-device registrations",
                "https://web3universe.today/safewallet-releases-bybit-hack-report/",
            ),
        ),
    ),
    replayed_on=REPLAYED_ON,
    substitution=(
        "the Safe (proxy and singleton), the trojan and the sweeper are deployed on the "
        "replay's chain, at new addresses (the historical ones are in the summary); the Safe "
        "holds the 401,346 ETH (the staked-ETH tokens are not replayed); Bybit's signers "
        "stand as Kinko's approver quorum over the key of the Safe's only owner (Kinko's hot "
        "wallet, threshold 1)"
    ),
    attempted_units=401_346 * ETH,
    hot_cap_units=None,
    not_prevented=(
        "the compromise of the signing front end and the signers' machines: Kinko's "
        "approvers still approve what a tampered screen shows them; it is the signer's own "
        "decoding that refuses",
        "the cloud-side break-in (failed MFA-device registrations, then the signing page's "
        "JavaScript replaced in S3 with the developer's hijacked session) fires no rule of "
        "Kinko's default pack: the monitor does not see it before the signing",
    ),
)

WAZIRX = Scenario(
    name="wazirx-2024",
    title="WazirX, 2024-07-18: signers shown a transfer signed a contract upgrade",
    summary=(
        "WazirX's Safe 4-of-6 multisig (co-signed with a custody provider, Liminal) was "
        "shown a routine transfer; the signed payload upgraded the wallet contract to the "
        "attacker's implementation, which then moved about $235M out."
    ),
    historical=Historical(
        date="2024-07-18",
        chain="ethereum",
        loss="about $235M (ETH and ERC-20 tokens)",
        detection="the same day (WazirX halted withdrawals)",
        detection_s=None,
        sources=(
            Source(
                "SINOHOPE / Followin: overview of the Safe multisig attacks (WazirX ~$230M)",
                "https://followin.io/en/feed/16555732",
            ),
        ),
    ),
    replayed_on=REPLAYED_ON,
    substitution=(
        "the dollar loss stands as 100,000 ETH (no ETH figure published), held by a Safe "
        "deployed on the replay's chain with the thief's sweeping implementation; the 4-of-6 "
        "signers stand as Kinko's approver quorum over the key of the Safe's only owner "
        "(Kinko's hot wallet, threshold 1)"
    ),
    attempted_units=100_000 * ETH,
    hot_cap_units=None,
    not_prevented=(
        "the compromised signing devices and the custody provider's interface: the "
        "approvers approve what they are shown; the signer's decoding refuses",
    ),
)

RADIANT = Scenario(
    name="radiant-2024",
    title="Radiant Capital, 2024-10-16: transferOwnership blind-signed on a 3-of-11 Safe",
    summary=(
        "Malware delivered in a Telegram ZIP ran on three developers' machines; their "
        "hardware wallets signed what looked like routine transactions, really "
        "transferOwnership of the lending pools' contracts; about $50M was drained."
    ),
    historical=Historical(
        date="2024-10-16",
        chain="arbitrum, bsc",
        loss="about $50-58M",
        detection="the same day (the protocol's markets were paused)",
        detection_s=None,
        sources=(
            Source(
                "SINOHOPE / Followin: overview of the Safe multisig attacks (Radiant ~$50M)",
                "https://followin.io/en/feed/16555732",
            ),
        ),
    ),
    replayed_on=REPLAYED_ON,
    substitution=(
        "Arbitrum and BSC replayed on Ethereum; the dollar loss stands as 20,000 ETH held by "
        "a pool contract owned by a Safe, both deployed on the replay's chain (its owner's "
        "powers reduced to a withdraw); the 3-of-11 signers stand as Kinko's approver quorum "
        "over the key of the Safe's only owner (Kinko's hot wallet, threshold 1)"
    ),
    attempted_units=20_000 * ETH,
    hot_cap_units=None,
    not_prevented=("the malware on the signers' machines and what their screens showed",),
)

COINCHECK = Scenario(
    name="coincheck-2018",
    title="Coincheck, 2018-01-26: a single-key hot wallet drained (523M XEM)",
    summary=(
        "With the key of a single-signature NEM hot wallet, the thief sent a 10 XEM test, "
        "then six transactions in eight minutes (520M XEM), more until 08:26 JST; Coincheck "
        "noticed at 11:25 JST, about 11 hours after the first transaction."
    ),
    historical=Historical(
        date="2018-01-26",
        chain="nem",
        loss="523M XEM (about ¥58bn)",
        detection="about 11 h 23 min (00:02 JST first transaction, 11:25 JST noticed)",
        detection_s=11 * 3600 + 23 * 60,
        sources=(
            Source(
                "Timeline of the Coincheck heist (BBC reporting)",
                "http://clive.tries.fed.wiki/coincheck-heist.html",
            ),
            Source(
                "Coinspeaker: Coincheck says hackers stole over $400M in NEM (¥58bn)",
                "https://www.coinspeaker.com/2018/01/27/japanese-exchange-coincheck-says-"
                "hackers-stole-400m-nem-cryptocurrency/",
            ),
        ),
    ),
    replayed_on=REPLAYED_ON,
    substitution=(
        "NEM has no Kinko adapter: replayed on Ethereum; the hot wallet's whole holding "
        "(523M XEM) stands as 523,000 ETH the thief tries to take"
    ),
    attempted_units=523_000 * ETH,
    hot_cap_units=HOT_CAP,
    not_prevented=(RAW_KEY,),
)

UPBIT_2019 = Scenario(
    name="upbit-2019",
    title="Upbit, 2019-11-27: 342,000 ETH out of the hot wallet in one transaction",
    summary="One transaction moved 342,000 ETH from Upbit's Ethereum hot wallet.",
    historical=Historical(
        date="2019-11-27",
        chain="ethereum",
        loss="342,000 ETH (about ₩58bn)",
        detection=(
            "announced about 4 h 50 min after the 13:06 KST transfer (notice at about "
            "08:56 UTC); when Upbit itself noticed is not public"
        ),
        detection_s=None,
        sources=(
            Source(
                "CryptoGlobe: Upbit confirms theft of 342,000 ETH (notice of 2019-11-27)",
                "https://cryptoglobe.com/latest/2019/11/south-korean-cypto-exchange-upbit-"
                "confirms-theft-of-342000-eth",
            ),
        ),
    ),
    replayed_on=REPLAYED_ON,
    substitution="",
    attempted_units=342_000 * ETH,
    hot_cap_units=HOT_CAP,
    not_prevented=(RAW_KEY,),
)

UPBIT_2025 = Scenario(
    name="upbit-2025",
    title="Upbit, 2025-11-27: a Solana hot wallet drained, its key inferred from signatures",
    summary=(
        "At about 04:42 KST, 24 Solana tokens left Upbit's Solana hot wallet for an unknown "
        "wallet; Dunamu's CEO later said a flaw let the attacker deduce private keys from "
        "the wallet's public transactions (experts: biased signature nonces)."
    ),
    historical=Historical(
        date="2025-11-27",
        chain="solana",
        loss="about ₩44.5bn (first stated as ₩54bn), 24 Solana tokens",
        detection=(
            "abnormal withdrawals noticed at about 04:42 KST; deposits and withdrawals "
            "halted later that morning"
        ),
        detection_s=None,
        sources=(
            Source(
                "Binance Square: Upbit Solana hot wallet incident (04:42 KST, ₩54bn revised "
                "to ₩44.5bn)",
                "https://www.binance.bh/en-AE/square/post/32993311063210",
            ),
            Source(
                "BeInCrypto via CryptoVideos: the breach and biased nonces (Prof. Jaewoo Cho)",
                "https://cryptovideos.net/2025/11/29/upbit-hack-stemmed-from-high-level-"
                "mathematical-exploit-says-local-expert-beincrypto",
            ),
            Source(
                "semicolondg: the 24 tokens taken",
                "https://semicolondg.com/upbit-suffers-37-million-hack-on-solana-assets-"
                "halts-withdrawals-to-safeguard-users",
            ),
        ),
    ),
    replayed_on=REPLAYED_ON,
    substitution=(
        "Solana (Ed25519) has no Kinko adapter: replayed on Ethereum (secp256k1 ECDSA); the "
        "24 tokens as 24 ETH transactions 135 s apart (54 minutes, as issue #18 states; the "
        "sources give no timeline); the weak nonces at their extreme (the same nonce twice); "
        "the loss as a 30,000 ETH attempt (no ETH figure published)"
    ),
    attempted_units=30_000 * ETH,
    hot_cap_units=HOT_CAP,
    not_prevented=(
        RAW_KEY,
        "Kinko's nonce self-test finds a repeated nonce only: a subtle bias (a few "
        "predictable bits, found by lattice attacks over many signatures) passes it",
        "the failed self-test freezes the wallet at once, which stops what Kinko signs; the "
        "thief signs outside Kinko with the inferred key, so moving the funds to a new key "
        "is people's work, not automatic: the replay lets an hour pass without it",
    ),
)

RONIN = Scenario(
    name="ronin-2022",
    title="Ronin bridge, 2022-03-23: 5 of 9 validator keys within one organisation's reach",
    summary=(
        "The bridge needed 5 of 9 validator signatures. The attacker, in through a "
        "spear-phished Sky Mavis employee, took Sky Mavis's four validator keys and a fifth "
        "signature through the Axie DAO validator, which had allowlisted Sky Mavis to sign "
        "for it in November 2021 and never revoked it; 173,600 ETH and 25.5M USDC left in "
        "two transactions, noticed six days later when a user could not withdraw."
    ),
    historical=Historical(
        date="2022-03-23",
        chain="ethereum (Ronin bridge)",
        loss="173,600 ETH and 25.5M USDC (about $600M)",
        detection="six days (2022-03-29, a user's failed 5,000 ETH withdrawal)",
        detection_s=6 * 24 * 3600,
        sources=(
            Source(
                "Cointelegraph: Axie Infinity's Ronin bridge hacked for over $600M",
                "https://cointelegraph.com/news/axie-infinity-s-ronin-bridge-hacked-for-"
                "over-600m/amp",
            ),
            Source(
                "Coinpaper: Ronin issues exploit post-mortem",
                "https://coinpaper.com/215/ronin-issues-exploit-postmortem-announces-bounty-"
                "program",
            ),
        ),
    ),
    replayed_on=REPLAYED_ON,
    substitution=(
        "the bridge contract's 5-of-9 validator signatures stand as one key to a warm "
        "wallet registered with quorum 5-of-9 and nine key shares; the 25.5M USDC "
        "transaction is not replayed"
    ),
    attempted_units=173_600 * ETH,
    hot_cap_units=None,
    not_prevented=(
        "Kinko refuses to record a key share or a delegation that puts the quorum within one "
        "legal entity's reach, and one past its end; an arrangement made outside the key "
        "inventory (a signing allowance nobody registers) is not seen: the inventory must be "
        "the record of who can sign",
        "were a quorum of keys in the thief's hands after all, they would sign outside Kinko: "
        "the watcher detects and freezes, but nothing bounds a warm wallet's holding",
    ),
)

SCENARIOS = MappingProxyType(
    {
        s.name: s
        for s in (DMM_BITCOIN, BYBIT, WAZIRX, RADIANT, COINCHECK, UPBIT_2019, UPBIT_2025, RONIN)
    }
)
