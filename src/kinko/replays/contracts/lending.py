"""Radiant's target: an Ownable contract holding a lending pool's funds, owned by the
protocol's Safe.

Slot 0 holds the owner. `owner()` reads it; `transferOwnership(address)` (only the
owner; not to the zero address) replaces it; `withdraw(address to, uint256 amount)` (only
the owner) pays `amount` out. It receives ETH (the depositors' funds).

Simplified against Radiant's contracts: the real `transferOwnership` handed over the
lending pool's address provider, whose new owner then installed a malicious pool
implementation that drained the pool; here the owner's power to move the funds is the
single `withdraw` (no events, no interest, no tokens).

The same behaviour in Solidity, for the reader (documentation, not the bytes' source)::

    contract PoolVault {
        address public owner;                      // slot 0
        constructor(address o) { owner = o; }
        receive() external payable {}
        function transferOwnership(address o) external {
            require(msg.sender == owner && o != address(0)); owner = o;
        }
        function withdraw(address to, uint256 amount) external {
            require(msg.sender == owner);
            (bool ok, ) = to.call{value: amount}(""); require(ok);
        }
    }
"""

from __future__ import annotations

from kinko.replays.contracts.asm import (
    FAIL,
    REQUIRE,
    RETURN_WORD,
    Item,
    arg_address,
    assemble,
    deploy_code,
    dispatch,
)

OWNER_SLOT = 0
ONLY_OWNER: list[Item] = ["CALLER", OWNER_SLOT, "SLOAD", "EQ", *REQUIRE]

POOL: list[Item] = [
    "CALLDATASIZE", "ISZERO", ("LABEL", "receive"), "JUMPI",
    *dispatch(
        ("owner()", "owner"),
        ("transferOwnership(address)", "transfer_ownership"),
        ("withdraw(address,uint256)", "withdraw"),
    ),
    *FAIL,
    ("DEF", "receive"), "JUMPDEST", "STOP",
    ("DEF", "owner"), "JUMPDEST",
    OWNER_SLOT, "SLOAD", *RETURN_WORD,
    ("DEF", "transfer_ownership"), "JUMPDEST",
    *ONLY_OWNER,
    *arg_address(0), "DUP1", *REQUIRE, OWNER_SLOT, "SSTORE", "STOP",
    ("DEF", "withdraw"), "JUMPDEST",
    *ONLY_OWNER,
    0, 0, 0, 0, 0x24, "CALLDATALOAD", *arg_address(0), "GAS", "CALL", *REQUIRE,
    "STOP",
]  # fmt: skip


def pool_code(owner: str) -> bytes:
    """Creation code of a pool owned by `owner`."""
    return deploy_code(assemble(POOL), {OWNER_SLOT: owner})
