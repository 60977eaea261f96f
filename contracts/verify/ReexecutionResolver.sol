// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDisputeResolver} from "../interfaces/IDisputeResolver.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IIntegerExecutor} from "../interfaces/IIntegerExecutor.sol";
import {IProgramStore} from "../interfaces/IProgramStore.sol";
import {IReexecutionResolver} from "../interfaces/IReexecutionResolver.sol";
import {ExecutorCalls} from "../libraries/ExecutorCalls.sol";

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
        // Re-execution is the model's semantics: either way the verdict settles the question.
        verdict.conclusive = true;
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

    /// @dev Loads the model's program straight into the calldata of `executor.execute(program, input)` (one copy:
    /// ExecutorCalls), checks its keccak256 against the registered programHash, and calls the executor with that
    /// buffer.
    function _reexecute(bytes32 modelId, bytes calldata input) private view returns (uint8, bytes memory) {
        IModelRegistry.Model memory model = i_registry.getModel(modelId);
        if (model.terms.mode != IModelRegistry.VerificationMode.REEXECUTION) revert ReexecutionWrongMode(modelId);
        address[] memory chunks = i_programStore.chunksOf(model.programHash);
        uint256 size = i_programStore.programSize(model.programHash);
        bytes memory data = ExecutorCalls.storedCallData(chunks, size, input);
        bytes32 programHash;
        // Safe: hashes the `size` program bytes the call data holds at offset 4 + 0x60 (after selector, two
        // offsets and the program's length word).
        assembly ("memory-safe") {
            programHash := keccak256(add(data, 0x84), size)
        }
        if (programHash != model.programHash) revert ReexecutionProgramMismatch(programHash, model.programHash);
        (, uint8 resultCode, bytes memory output) = ExecutorCalls.staticExecute(i_executor, data);
        return (resultCode, output);
    }
}
