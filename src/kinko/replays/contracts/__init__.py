"""Contracts the replays deploy on the in-process chain, hand-assembled EVM bytecode.

No Solidity compiler is needed (nor on the machine): each contract is an assembly
listing in its module, assembled by `asm.assemble` at import time; the Solidity in each
module's docstring is the same behaviour written for the reader (documentation, not the
source of the bytes). `safe` is the victim multisig (a Safe-style proxy and its
singleton), `attacker` the thieves' contracts (Bybit's trojan and its sweeping
implementation), `lending` the Radiant pool an owner can empty.
"""
