// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDisputeResolver} from "../interfaces/IDisputeResolver.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IIntegerExecutor} from "../interfaces/IIntegerExecutor.sol";
import {IProgramStore} from "../interfaces/IProgramStore.sol";
import {IReexecutionResolver} from "../interfaces/IReexecutionResolver.sol";

/// @title ReexecutionResolver
/// @notice Decides disputes over REEXECUTION models by re-executing the model's program on-chain.
/// @dev SECURITY CONSIDERATIONS
/// - Who can call what. Only the coordinator opens disputes (onDisputeOpened). `reexecute` and `isWrongResult`
///   are views anyone may call.
/// - What is trusted. The coordinator, registry, program store and executor fixed at deployment. Programs are
///   content-addressed: the resolver re-hashes what the store returns and compares it with the registered
///   programHash, so a store cannot substitute a program. The model's publisher chose the program; operators
///   check that it is the compilation of the ONNX file they serve (the node refuses a model whose programHash
///   differs), so the program is the model's semantics by construction.
/// - Decisions are final in the opening transaction (no second phase to stall): the challenger supplies the
///   input as evidence, checked against the request's inputHash, so a challenger cannot dispute with another
///   input. The verdict compares both the result code and the output hash; on a mismatch the re-execution's
///   result is delivered to the consumer.
/// - Gas. A dispute costs one full re-execution plus loading the program (EXTCODECOPY of its chunks straight
///   into the executor's calldata, and one keccak256 over it); the challenger pays it. A model whose
///   re-execution does not fit in a block cannot be disputed here, which is why `verity model check` estimates
///   the gas and the docs bound REEXECUTION models to what fits (docs/verifiable-subset.md).
/// - An executor revert (a malformed program: impossible for a compiled one) reverts the challenge: the bond is
///   not taken and nothing changes.
contract ReexecutionResolver is IReexecutionResolver {
    IInferenceCoordinator private immutable i_coordinator;
    IModelRegistry private immutable i_registry;
    IProgramStore private immutable i_programStore;
    IIntegerExecutor private immutable i_executor;

    /// @param coordinator_ The coordinator that opens disputes.
    /// @param registry_ The model registry (programHash and mode of each model).
    /// @param programStore_ Where programs are stored.
    /// @param executor_ The program interpreter.
    constructor(
        IInferenceCoordinator coordinator_,
        IModelRegistry registry_,
        IProgramStore programStore_,
        IIntegerExecutor executor_
    ) {
        i_coordinator = coordinator_;
        i_registry = registry_;
        i_programStore = programStore_;
        i_executor = executor_;
    }

    /// @inheritdoc IDisputeResolver
    function onDisputeOpened(
        IInferenceCoordinator.Request calldata request,
        address,
        bytes calldata evidence
    ) external returns (bool decided, IInferenceCoordinator.Verdict memory verdict) {
        if (msg.sender != address(i_coordinator)) revert ReexecutionNotCoordinator(msg.sender, address(i_coordinator));
        bytes32 inputHash = keccak256(evidence);
        if (inputHash != request.inputHash) revert ReexecutionInputMismatch(inputHash, request.inputHash);

        (uint8 resultCode, bytes memory output) = _reexecute(request.modelId, evidence);
        bytes32 outputHash = keccak256(output);
        bool operatorAtFault = resultCode != request.resultCode || outputHash != request.outputHash;
        emit ResultReexecuted(request.requestId, request.modelId, operatorAtFault, resultCode, outputHash);
        verdict.operatorAtFault = operatorAtFault;
        if (operatorAtFault) {
            verdict.deliverResult = true;
            verdict.resultCode = resultCode;
            verdict.output = output;
        }
        return (true, verdict);
    }

    /// @inheritdoc IReexecutionResolver
    function reexecute(
        bytes32 modelId,
        bytes calldata input
    ) external view returns (uint8 resultCode, bytes memory output) {
        return _reexecute(modelId, input);
    }

    /// @inheritdoc IReexecutionResolver
    function isWrongResult(
        bytes32 modelId,
        bytes calldata input,
        uint8 resultCode,
        bytes32 outputHash
    ) external view returns (bool) {
        (uint8 code, bytes memory output) = _reexecute(modelId, input);
        return code != resultCode || keccak256(output) != outputHash;
    }

    /// @inheritdoc IReexecutionResolver
    function coordinator() external view returns (address) {
        return address(i_coordinator);
    }

    /// @inheritdoc IReexecutionResolver
    function registry() external view returns (address) {
        return address(i_registry);
    }

    /// @inheritdoc IReexecutionResolver
    function programStore() external view returns (address) {
        return address(i_programStore);
    }

    /// @inheritdoc IReexecutionResolver
    function executor() external view returns (address) {
        return address(i_executor);
    }

    /// @dev Loads the model's program straight into the calldata of `executor.execute(program, input)` (one copy,
    /// EXTCODECOPY from each chunk), checks its keccak256 against the registered programHash, and calls the
    /// executor with that buffer. Building the call with `store.load()` and Solidity's encoder instead would hold
    /// three copies of the program in memory, whose quadratic cost doubles a large model's dispute gas
    /// (bench/results/verify.md, "load()" versus "direct").
    function _reexecute(bytes32 modelId, bytes calldata input) private view returns (uint8, bytes memory) {
        IModelRegistry.Model memory model = i_registry.getModel(modelId);
        if (model.terms.mode != IModelRegistry.VerificationMode.REEXECUTION) revert ReexecutionWrongMode(modelId);
        address[] memory chunks = i_programStore.chunksOf(model.programHash);
        uint256 size = i_programStore.programSize(model.programHash);
        bytes memory data = _executeCallData(chunks, size, input);
        bytes32 programHash;
        // Safe: hashes the `size` program bytes the call data holds at offset 4 + 0x60 (after selector, two
        // offsets and the program's length word).
        assembly ("memory-safe") {
            programHash := keccak256(add(data, 0x84), size)
        }
        if (programHash != model.programHash) revert ReexecutionProgramMismatch(programHash, model.programHash);
        return _call(data);
    }

    /// @dev The ABI calldata of `execute(program, input)` with the program copied from `chunks` (`size` bytes in
    /// all): selector | offset of program (0x40) | offset of input | program length | program, zero-padded |
    /// input length | input, zero-padded.
    function _executeCallData(
        address[] memory chunks,
        uint256 size,
        bytes calldata input
    ) private view returns (bytes memory data) {
        uint256 inputHead = 0x60 + 32 * ((size + 31) / 32);
        uint256 total = 4 + inputHead + 32 + 32 * ((input.length + 31) / 32);
        bytes4 selector = IIntegerExecutor.execute.selector;
        // Safe: allocates `data` at the free memory pointer with room for `total` bytes and writes exactly its
        // fields: selector, offsets, program length, each chunk's code after its STOP byte (the program's last
        // word is zeroed first, which is its padding), then the input with its padding. The chunks are the
        // store's, whose data sum to `size` bytes by construction (register() measured them); a mismatch could
        // only corrupt the program, which the hash check in _reexecute then refuses.
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

    /// @dev Static-calls the executor with `data` as calldata, in place (Solidity would copy `data` first), and
    /// decodes its result; bubbles up a revert (a malformed program).
    function _call(bytes memory data) private view returns (uint8 resultCode, bytes memory output) {
        address executor_ = address(i_executor);
        bool ok;
        bytes memory ret;
        // Safe: calls with `data`'s bytes, then copies the return data into a new bytes at the free memory
        // pointer (length word, data, pointer moved past it rounded up to a word).
        assembly ("memory-safe") {
            ok := staticcall(gas(), executor_, add(data, 0x20), mload(data), 0, 0)
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
