// SPDX-License-Identifier: Apache-2.0
// The behaviour of the hand-assembled bytecode in minimal_erc20.py, for the reader.
// Not compiled: the test bytes come from the assembly listing in minimal_erc20.py.
pragma solidity ^0.8.20;

contract MinimalToken {
    event Transfer(address indexed from, address indexed to, uint256 value);

    mapping(address => uint256) public balanceOf;  // stored at slot = address in the bytecode

    constructor(uint256 supply) {
        balanceOf[msg.sender] = supply;
    }

    function decimals() external pure returns (uint8) {
        return 6;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        require(balanceOf[msg.sender] >= value);
        balanceOf[msg.sender] -= value;
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }
}
