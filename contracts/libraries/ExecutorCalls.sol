// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IIntegerExecutor} from "../interfaces/IIntegerExecutor.sol";

/// @title ExecutorCalls
/// @notice Calls IntegerExecutor.execute on a program stored in ProgramStore chunks with one copy of the program
/// in memory: the chunks' data are copied by EXTCODECOPY straight into the call's calldata buffer, and the call
/// is made from that buffer in place. Building the call with `store.load()` and Solidity's encoder instead
/// holds three copies, whose quadratic memory cost doubles a large model's dispute gas (bench/results/verify.md,
/// "load()" versus "direct"). Used by ReexecutionResolver and the test harness that benchmarks it.
library ExecutorCalls {
    /// @dev The ABI calldata of `execute(program, input)` with the program copied from `chunks` (`size` bytes in
    /// all): selector | offset of program (0x40) | offset of input | program length | program, zero-padded |
    /// input length | input, zero-padded.
    function storedCallData(
        address[] memory chunks,
        uint256 size,
        bytes calldata input
    ) internal view returns (bytes memory data) {
        uint256 inputHead = 0x60 + 32 * ((size + 31) / 32);
        uint256 total = 4 + inputHead + 32 + 32 * ((input.length + 31) / 32);
        bytes4 selector = IIntegerExecutor.execute.selector;
        // Safe: allocates `data` at the free memory pointer with room for `total` bytes and writes exactly its
        // fields: selector, offsets, program length, each chunk's code after its STOP byte (the program's last
        // word is zeroed first, which is its padding), then the input with its padding. The chunks are the
        // store's, whose data sum to `size` bytes by construction (register() measured them); a mismatch could
        // only corrupt the program, which a caller checking its hash (as ReexecutionResolver does) then refuses.
        assembly ("memory-safe") {
            data := mload(0x40)
            mstore(data, total)
            let p := add(data, 0x20)
            mstore(0x40, and(add(add(p, total), 31), not(31)))
            mstore(p, selector)
            mstore(add(p, 4), 0x40)
            mstore(add(p, 0x24), inputHead)
            mstore(add(p, 0x44), size)
            let dst := add(p, 0x64)
            let programEnd := add(dst, size)
            mstore(add(dst, and(size, not(31))), 0)
            for {
                let c := add(chunks, 0x20)
                let end := add(c, shl(5, mload(chunks)))
            } lt(c, end) {
                c := add(c, 0x20)
            } {
                let pointer := mload(c)
                let length := sub(extcodesize(pointer), 1)
                if gt(add(dst, length), programEnd) {
                    length := sub(programEnd, dst)
                }
                extcodecopy(pointer, dst, 1, length)
                dst := add(dst, length)
            }
            let ip := add(p, add(4, inputHead))
            mstore(ip, input.length)
            if and(input.length, 31) {
                mstore(add(add(ip, 0x20), and(input.length, not(31))), 0)
            }
            calldatacopy(add(ip, 0x20), input.offset, input.length)
        }
    }

    /// @dev `executor.gasBound(program)` for the program stored in `chunks` (`size` bytes), with one copy of it in
    /// memory, and the program's keccak256. Reuses `storedCallData` with an empty input and `gasBound`'s selector:
    /// the first argument's offset (0x40) then points at the program's length word, which is valid ABI for
    /// `gasBound(bytes)` (the trailing input is ignored). Bubbles up a revert (a malformed program).
    function storedGasBound(
        IIntegerExecutor executor,
        address[] memory chunks,
        uint256 size
    ) internal view returns (bytes32 programHash, uint256 executionGas, uint256 outputBytes) {
        bytes memory data = storedCallData(chunks, size, msg.data[0:0]);
        bytes4 selector = IIntegerExecutor.gasBound.selector;
        address executor_ = address(executor);
        bool ok;
        // Safe: overwrites the 4 selector bytes of `data` (keeping the word's other 28 bytes), hashes the `size`
        // program bytes at offset 4 + 0x60, calls in place and reads the two return words from scratch space
        // (or copies the revert data to free memory and rethrows it).
        assembly ("memory-safe") {
            let p := add(data, 0x20)
            mstore(p, or(selector, and(mload(p), 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff)))
            programHash := keccak256(add(p, 0x64), size)
            ok := staticcall(gas(), executor_, p, mload(data), 0, 0x40)
            if iszero(ok) {
                let r := mload(0x40)
                returndatacopy(r, 0, returndatasize())
                revert(r, returndatasize())
            }
            // A call to an account without code succeeds with no return data: never read stale scratch space.
            if lt(returndatasize(), 0x40) {
                revert(0, 0)
            }
            executionGas := mload(0)
            outputBytes := mload(0x20)
        }
    }

    /// @dev Static-calls `executor` with `data` as calldata, in place (Solidity would copy `data` first), and
    /// decodes its result; bubbles up a revert (a malformed program). `gasUsed` is measured around the call only.
    function staticExecute(
        IIntegerExecutor executor,
        bytes memory data
    ) internal view returns (uint256 gasUsed, uint8 resultCode, bytes memory output) {
        address executor_ = address(executor);
        bool ok;
        bytes memory ret;
        // Safe: calls with `data`'s bytes, then copies the return data into a new bytes at the free memory
        // pointer (length word, data, pointer moved past it rounded up to a word).
        assembly ("memory-safe") {
            let before := gas()
            ok := staticcall(gas(), executor_, add(data, 0x20), mload(data), 0, 0)
            gasUsed := sub(before, gas())
            ret := mload(0x40)
            mstore(ret, returndatasize())
            returndatacopy(add(ret, 0x20), 0, returndatasize())
            mstore(0x40, add(add(ret, 0x20), and(add(returndatasize(), 31), not(31))))
        }
        if (!ok) {
            // Safe: rethrows the executor's revert data.
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        (resultCode, output) = abi.decode(ret, (uint8, bytes));
    }
}
