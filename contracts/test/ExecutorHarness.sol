// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IIntegerExecutor} from "../interfaces/IIntegerExecutor.sol";
import {IProgramStore} from "../interfaces/IProgramStore.sol";
import {ExecutorCalls} from "../libraries/ExecutorCalls.sol";

/// @title ExecutorHarness
/// @notice Test-only: runs an IIntegerExecutor on many inputs in one eth_call, and measures the gas of one run
/// (with the program passed as calldata, or loaded from a ProgramStore). Never deployed by deploy/.
contract ExecutorHarness {
    /// @notice Runs `exec.execute(program, inputs[i])` for every input. A revert of the executor (a malformed
    /// program) is bubbled up.
    /// @dev The call's calldata is built once with the program, and only the input part is rewritten per input,
    /// so memory does not grow with the number of inputs times the program size.
    /// @param exec The executor.
    /// @param program The program bytes.
    /// @param inputs The inputs, each a tensor list.
    /// @return codes The result code of each run.
    /// @return outputs The output of each run.
    function executeMany(
        IIntegerExecutor exec,
        bytes calldata program,
        bytes[] calldata inputs
    ) external view returns (uint8[] memory codes, bytes[] memory outputs) {
        uint256 count = inputs.length;
        codes = new uint8[](count);
        outputs = new bytes[](count);
        uint256 maxInput;
        for (uint256 i; i < count; ++i) {
            if (inputs[i].length > maxInput) maxInput = inputs[i].length;
        }
        (bytes memory data, uint256 inputHead) = _callData(program, maxInput);
        for (uint256 i; i < count; ++i) (codes[i], outputs[i]) = _runOne(exec, data, inputHead, inputs[i]);
    }

    /// @notice The gas of one `exec.execute(program, input)` call, measured with gasleft() around the call only
    /// (the calldata is encoded before): the executor's execution, the call's own cost (cold account access) and
    /// the copy of its return data. Not included: the calldata cost of a transaction carrying the program.
    /// @param exec The executor.
    /// @param program The program bytes.
    /// @param input The input tensor list.
    /// @return gasUsed The gas measured.
    /// @return code The result code.
    /// @return output The output.
    function measure(
        IIntegerExecutor exec,
        bytes calldata program,
        bytes calldata input
    ) external view returns (uint256 gasUsed, uint8 code, bytes memory output) {
        bytes memory data = abi.encodeCall(IIntegerExecutor.execute, (program, input));
        (gasUsed, code, output) = ExecutorCalls.staticExecute(exec, data);
    }

    /// @notice Loads a program from a ProgramStore and runs it, measuring both parts as a contract that
    /// re-executes a stored program pays them. `loadGas`: `store.load(programHash)` (the store's EXTCODECOPY of
    /// the chunks and its return, the return data copied into this contract's memory) plus encoding the
    /// executor's calldata (one more copy of the program, and the memory expansion of both copies).
    /// `executeGas`: the executor call alone, as in `measure`.
    /// @param exec The executor.
    /// @param store The program store.
    /// @param programHash The program's hash.
    /// @param input The input tensor list.
    /// @return loadGas Gas of loading the program and encoding the call.
    /// @return executeGas Gas of the call.
    /// @return code The result code.
    /// @return output The output.
    function measureStored(
        IIntegerExecutor exec,
        IProgramStore store,
        bytes32 programHash,
        bytes calldata input
    ) external view returns (uint256 loadGas, uint256 executeGas, uint8 code, bytes memory output) {
        uint256 start = gasleft();
        bytes memory program = store.load(programHash);
        bytes memory data = abi.encodeCall(IIntegerExecutor.execute, (program, input));
        loadGas = start - gasleft();
        (executeGas, code, output) = ExecutorCalls.staticExecute(exec, data);
    }

    /// @notice Like `measureStored`, but loading the program the cheap way: the chunks' data are copied with
    /// EXTCODECOPY straight into the executor's calldata buffer (one copy of the program in memory instead of
    /// three: the store's return buffer, this contract's copy of the return data, and the encoded call).
    /// @dev Relies on the store's layout (each chunk's code is a STOP byte followed by its data), which is what
    /// `register` hashed, so the bytes are the registered program.
    /// @param exec The executor.
    /// @param store The program store.
    /// @param programHash The program's hash.
    /// @param input The input tensor list.
    /// @return loadGas Gas of reading the chunk list and size and building the calldata.
    /// @return executeGas Gas of the call.
    /// @return code The result code.
    /// @return output The output.
    function measureStoredDirect(
        IIntegerExecutor exec,
        IProgramStore store,
        bytes32 programHash,
        bytes calldata input
    ) external view returns (uint256 loadGas, uint256 executeGas, uint8 code, bytes memory output) {
        uint256 start = gasleft();
        address[] memory chunks = store.chunksOf(programHash);
        bytes memory data = ExecutorCalls.storedCallData(chunks, store.programSize(programHash), input);
        loadGas = start - gasleft();
        (executeGas, code, output) = ExecutorCalls.staticExecute(exec, data);
    }

    /// @dev The calldata of `execute(program, input)` with room for an input of `maxInput` bytes: selector |
    /// offset of program (0x40) | offset of input (`inputHead`) | program | input (written by `_runOne`).
    function _callData(
        bytes calldata program,
        uint256 maxInput
    ) private pure returns (bytes memory data, uint256 inputHead) {
        inputHead = 0x60 + 32 * ((program.length + 31) / 32);
        data = new bytes(4 + inputHead + 32 + 32 * ((maxInput + 31) / 32));
        bytes4 selector = IIntegerExecutor.execute.selector;
        // Safe: writes the selector, the two offsets and the program (zero-padded: `new bytes` zeroed the buffer)
        // within `data`, which holds them.
        assembly ("memory-safe") {
            let p := add(data, 0x20)
            mstore(p, selector)
            mstore(add(p, 4), 0x40)
            mstore(add(p, 0x24), inputHead)
            mstore(add(p, 0x44), program.length)
            calldatacopy(add(p, 0x64), program.offset, program.length)
        }
    }

    /// @dev Writes `input` into the calldata built by `_callData` and calls the executor with it.
    function _runOne(
        IIntegerExecutor exec,
        bytes memory data,
        uint256 inputHead,
        bytes calldata input
    ) private view returns (uint8 code, bytes memory output) {
        uint256 total = 4 + inputHead + 32 + 32 * ((input.length + 31) / 32);
        // Safe: writes the input's length, bytes and zero padding within `data` (sized for the longest input),
        // then shortens `data`'s length to this call's calldata.
        assembly ("memory-safe") {
            let p := add(add(data, 0x20), add(4, inputHead))
            mstore(p, input.length)
            if and(input.length, 31) {
                mstore(add(add(p, 0x20), and(input.length, not(31))), 0)
            }
            calldatacopy(add(p, 0x20), input.offset, input.length)
            mstore(data, total)
        }
        (, code, output) = ExecutorCalls.staticExecute(exec, data);
    }
}
