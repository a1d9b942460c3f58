"""The victim multisig: a Safe-style proxy and its singleton (the "master copy").

Storage follows Safe v1.x: slot 0 the singleton's address (`masterCopy`), slot 2 the
owners mapping (``owners[a]`` at ``keccak256(a . 2)``, non-zero for an owner), slot 3 the
owner count, slot 4 the threshold, slot 5 the nonce. The selectors are Safe's own
(`setup`, `execTransaction`, `changeMasterCopy`, `getThreshold`, `isOwner`, `nonce`,
and the proxy's `masterCopy()`), so `kinko.chains.ethereum.calldata` decodes these calls
exactly as it decodes a real Safe's.

Simplified against the real Safe v1.x (docs/replays.md): `execTransaction` accepts only
the caller's own "pre-validated" signature (Safe's v=1 case: ``msg.sender`` is an owner)
and so needs a threshold of 1: the exchange's approver quorum, enforced by Kinko before
its signer signs for the owner key, stands in for the Safe's other signatures; the
EIP-712 signatures, gas refunds, modules, guards, the fallback handler and the events are
left out (`setup`'s last six arguments are accepted and ignored); an inner call that fails
reverts with the inner call's data (Safe: ``GS013``).

The same behaviour in Solidity, for the reader (documentation, not the bytes' source)::

    contract SafeProxy {                       // slot 0: the singleton
        address internal singleton;
        constructor(address s) { singleton = s; }
        fallback() external payable {          // masterCopy() is answered here
            if (msg.sig == 0xa619486e) { return singleton; }
            (bool ok, bytes memory out) = singleton.delegatecall(msg.data);
            if (!ok) revert(out); return out;
        }
    }

    contract SafeSingleton {
        address internal singleton;            // slot 0 (the proxy's, when delegatecalled)
        mapping(address => uint256) internal owners;   // slot 2
        uint256 internal ownerCount; uint256 internal threshold; uint256 public nonce;
        receive() external payable {}
        function setup(address[] calldata o, uint256 t, address, bytes calldata, address,
                       address, uint256, address) external {
            require(threshold == 0 && t >= 1 && t <= o.length);
            for (uint i; i < o.length; i++) {
                require(o[i] != address(0) && owners[o[i]] == 0); owners[o[i]] = 1;
            }
            ownerCount = o.length; threshold = t;
        }
        function execTransaction(address to, uint256 value, bytes calldata data,
                uint8 operation, uint256, uint256, uint256, address, address, bytes calldata)
                external payable returns (bool) {
            require(owners[msg.sender] != 0 && threshold <= 1 && operation <= 1);
            nonce++;
            (bool ok, ) = operation == 1 ? to.delegatecall(data) : to.call{value: value}(data);
            require(ok); return true;
        }
        function changeMasterCopy(address s) external {
            require(msg.sender == address(this) && s != address(0)); singleton = s;
        }
        function getThreshold() external view returns (uint256) { return threshold; }
        function isOwner(address a) external view returns (bool) { return owners[a] != 0; }
    }
"""

from __future__ import annotations

from kinko.chains.ethereum.calldata import EXEC_TRANSACTION
from kinko.replays.contracts.asm import (
    ADDRESS_MASK,
    FAIL,
    REQUIRE,
    RETURN_WORD,
    Item,
    arg_address,
    assemble,
    deploy_code,
    dispatch,
    mapping_slot,
)

SINGLETON_SLOT, OWNERS, OWNER_COUNT, THRESHOLD, NONCE = 0, 2, 3, 4, 5
SETUP = "setup(address[],uint256,address,bytes,address,address,uint256,address)"

PROXY: list[Item] = [
    *dispatch(("masterCopy()", "master_copy")),
    "CALLDATASIZE", 0, 0, "CALLDATACOPY",  # memory = the call's data
    0, 0, "CALLDATASIZE", 0, SINGLETON_SLOT, "SLOAD", "GAS", "DELEGATECALL",
    "RETURNDATASIZE", 0, 0, "RETURNDATACOPY",
    ("LABEL", "ok"), "JUMPI",
    "RETURNDATASIZE", 0, "REVERT",
    ("DEF", "ok"), "JUMPDEST",
    "RETURNDATASIZE", 0, "RETURN",
    ("DEF", "master_copy"), "JUMPDEST",
    SINGLETON_SLOT, "SLOAD", *RETURN_WORD,
]  # fmt: skip

SINGLETON: list[Item] = [
    "CALLDATASIZE", "ISZERO", ("LABEL", "receive"), "JUMPI",
    *dispatch(
        (EXEC_TRANSACTION, "exec"),
        (SETUP, "setup"),
        ("changeMasterCopy(address)", "change_master_copy"),
        ("getThreshold()", "get_threshold"),
        ("isOwner(address)", "is_owner"),
        ("nonce()", "nonce"),
    ),
    *FAIL,
    ("DEF", "receive"), "JUMPDEST", "STOP",
    # setup: once; 1 <= threshold <= owners; each owner non-zero and new
    ("DEF", "setup"), "JUMPDEST",
    THRESHOLD, "SLOAD", "ISZERO", *REQUIRE,                    # not yet set up
    4, "CALLDATALOAD", 4, "ADD",                              # [p] (the array's length)
    "DUP1", "CALLDATALOAD",                                   # [n, p]
    "DUP1", 0x24, "CALLDATALOAD", "GT", "ISZERO", *REQUIRE,   # threshold <= n
    0x24, "CALLDATALOAD", *REQUIRE,                           # threshold >= 1
    "DUP1", OWNER_COUNT, "SSTORE",
    0x24, "CALLDATALOAD", THRESHOLD, "SSTORE",
    0x20, "MUL", "DUP2", "ADD", 0x20, "ADD",                  # [end, p]
    "SWAP1", 0x20, "ADD",                                     # [ptr, end]
    ("DEF", "owner_loop"), "JUMPDEST",
    "DUP2", "DUP2", "EQ", ("LABEL", "done"), "JUMPI",
    "DUP1", "CALLDATALOAD", ADDRESS_MASK, "AND",    # [a, ptr, end]
    "DUP1", *REQUIRE,                                         # a != 0
    *mapping_slot(["DUP1"], OWNERS),                          # [slot, a, ptr, end]
    "DUP1", "SLOAD", "ISZERO", *REQUIRE,                      # not an owner twice
    1, "SWAP1", "SSTORE", "POP", 0x20, "ADD",                 # owners[a] = 1; [ptr+32, end]
    ("LABEL", "owner_loop"), "JUMP",
    ("DEF", "done"), "JUMPDEST", "STOP",
    # execTransaction: the caller's pre-validated signature must meet the threshold
    ("DEF", "exec"), "JUMPDEST",
    *mapping_slot(["CALLER"], OWNERS), "SLOAD", *REQUIRE,
    THRESHOLD, "SLOAD", 1, "LT", "ISZERO", *REQUIRE,          # threshold <= 1
    NONCE, "SLOAD", 1, "ADD", NONCE, "SSTORE",
    0x64, "CALLDATALOAD", "DUP1", 1, "LT", "ISZERO", *REQUIRE,  # [op], op <= 1
    0x44, "CALLDATALOAD", 4, "ADD", "DUP1", "CALLDATALOAD",   # [len, p, op]
    "DUP1", "DUP3", 0x20, "ADD", 0, "CALLDATACOPY",           # memory = data
    "SWAP1", "POP",                                           # [len, op]
    "DUP2", ("LABEL", "delegate"), "JUMPI",
    0, 0, "DUP3", 0, 0x24, "CALLDATALOAD", *arg_address(0), "GAS", "CALL",
    ("LABEL", "called"), "JUMP",
    ("DEF", "delegate"), "JUMPDEST",
    0, 0, "DUP3", 0, *arg_address(0), "GAS", "DELEGATECALL",
    ("DEF", "called"), "JUMPDEST",
    ("LABEL", "success"), "JUMPI",
    "RETURNDATASIZE", 0, 0, "RETURNDATACOPY", "RETURNDATASIZE", 0, "REVERT",
    ("DEF", "success"), "JUMPDEST",
    1, *RETURN_WORD,
    # changeMasterCopy: only the Safe itself (an execTransaction calling itself)
    ("DEF", "change_master_copy"), "JUMPDEST",
    "CALLER", "ADDRESS", "EQ", *REQUIRE,
    *arg_address(0), "DUP1", *REQUIRE,
    SINGLETON_SLOT, "SSTORE", "STOP",
    ("DEF", "get_threshold"), "JUMPDEST",
    THRESHOLD, "SLOAD", *RETURN_WORD,
    ("DEF", "nonce"), "JUMPDEST",
    NONCE, "SLOAD", *RETURN_WORD,
    ("DEF", "is_owner"), "JUMPDEST",
    *mapping_slot(arg_address(0), OWNERS), "SLOAD", "ISZERO", "ISZERO", *RETURN_WORD,
]  # fmt: skip


def singleton_code() -> bytes:
    """Creation code of the singleton (no storage of its own is used)."""
    return deploy_code(assemble(SINGLETON))


def proxy_code(singleton: str) -> bytes:
    """Creation code of a proxy whose slot 0 holds `singleton`."""
    return deploy_code(assemble(PROXY), {SINGLETON_SLOT: singleton})
