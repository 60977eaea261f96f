// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDisputeResolver} from "../../interfaces/IDisputeResolver.sol";
import {IInferenceCoordinator} from "../../interfaces/IInferenceCoordinator.sol";
import {IModelRegistry} from "../../interfaces/IModelRegistry.sol";
import {IIntegerExecutor} from "../../interfaces/IIntegerExecutor.sol";
import {IProgramStore} from "../../interfaces/IProgramStore.sol";
import {IReexecutionResolver} from "./IReexecutionResolver.sol";
import {ExecutorCalls} from "../../libraries/ExecutorCalls.sol";

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
/// - Every result is disputable, by construction: the registry calls `checkModel` before it registers a
///   REEXECUTION model, which validates the program with the executor (a malformed one reverts, naming the
///   fault) and refuses a model whose worst-case dispute, `disputeGasBound` with the largest callback and input
///   any request may have, exceeds `maxDisputeGas`. So a challenge of a valid request cannot revert because of
///   the model: not for a malformed program, not for running out of gas below the stated bound.
/// - Catching a lie pays: with a non-zero `disputeGasPriceWei`, the model's collateral must be large enough that
///   the challenger's share of it (the coordinator's fixed `challengerRewardBps`) pays the worst-case dispute gas
///   at that price.
/// - Gas. A dispute costs one full re-execution plus loading the program (EXTCODECOPY of its chunks straight
///   into the executor's calldata, and one keccak256 over it); the challenger pays it.
contract ReexecutionResolver is IReexecutionResolver {
    IInferenceCoordinator private immutable i_coordinator;
    IModelRegistry private immutable i_registry;
    IProgramStore private immutable i_programStore;
    IIntegerExecutor private immutable i_executor;
    uint256 private immutable i_maxDisputeGas;
    uint256 private immutable i_disputeGasPriceWei;

    /// @dev Gas of a dispute besides loading and running the program and the callback: intrinsic gas, the request
    /// struct in calldata, the coordinator's challenge (commitment, bond transfer, events, DELEGATECALL), the
    /// verdict (slash through the staking contract, three credits that may create balance slots, events), the
    /// registry and store reads (a model with a 512-byte URI) and this resolver's own work. About 210,000 is measured
    /// for a small model (a whole dispute of 290,545 gas); test/contracts/InferenceCoordinator.attacks.spec.ts holds
    /// a measured dispute under the bound.
    uint256 private constant DISPUTE_BASE_GAS = 400_000;
    /// @dev Per program chunk: the store's array read, the cold EXTCODESIZE and EXTCODECOPY setup.
    uint256 private constant CHUNK_GAS = 5_500;
    /// @dev Per 32-byte word of program: the copy (3), keccak256 (6), with margin.
    uint256 private constant PROGRAM_WORD_GAS = 12;
    /// @dev Per 32-byte word copied between frames (the evidence into call arguments and for hashing, the output
    /// back from the executor, decoded, returned, decoded again and encoded into the callback): 3, with margin.
    uint256 private constant COPY_WORD_GAS = 6;
    /// @dev Words of fixed-size data in a frame's memory besides the input and output (structs, call heads).
    uint256 private constant FRAME_WORDS = 48;

    /// @param coordinator_ The coordinator that opens disputes.
    /// @param registry_ The model registry (programHash and mode of each model).
    /// @param programStore_ Where programs are stored.
    /// @param executor_ The program interpreter.
    /// @param maxDisputeGas_ The most gas a dispute may need (keep it under the chain's block gas limit).
    /// @param disputeGasPriceWei_ Stake-token base units per gas at which the challenger's reward must pay for a
    /// dispute (0: no collateral floor).
    constructor(
        IInferenceCoordinator coordinator_,
        IModelRegistry registry_,
        IProgramStore programStore_,
        IIntegerExecutor executor_,
        uint256 maxDisputeGas_,
        uint256 disputeGasPriceWei_
    ) {
        i_coordinator = coordinator_;
        i_registry = registry_;
        i_programStore = programStore_;
        i_executor = executor_;
        i_maxDisputeGas = maxDisputeGas_;
        i_disputeGasPriceWei = disputeGasPriceWei_;
    }

    /// @inheritdoc IDisputeResolver
    function checkModel(IModelRegistry.ModelSpec calldata spec) external view returns (uint256 disputeGas) {
        disputeGas = disputeGasBound(
            spec.programHash,
            i_coordinator.MAX_CALLBACK_GAS_LIMIT(),
            i_coordinator.MAX_INPUT_BYTES()
        );
        if (disputeGas > i_maxDisputeGas) revert ReexecutionDisputeTooExpensive(disputeGas, i_maxDisputeGas);
        if (i_disputeGasPriceWei != 0) {
            uint256 rewardBps = i_coordinator.getParams().challengerRewardBps;
            // A coordinator that pays no reward cannot make a challenge worth its gas: no collateral suffices.
            uint256 want =
                rewardBps == 0
                    ? type(uint256).max
                    : (disputeGas * i_disputeGasPriceWei * 10_000 + rewardBps - 1) / rewardBps;
            if (spec.collateralWei < want) revert ReexecutionCollateralTooLow(spec.collateralWei, want);
        }
    }

    /// @inheritdoc IReexecutionResolver
    function disputeGasBound(
        bytes32 programHash,
        uint256 callbackGasLimit,
        uint256 inputBytes
    ) public view returns (uint256) {
        if (!i_programStore.exists(programHash)) revert ReexecutionProgramNotStored(programHash);
        address[] memory chunks = i_programStore.chunksOf(programHash);
        uint256 size = i_programStore.programSize(programHash);
        (bytes32 loaded, uint256 executionGas, uint256 outputBytes) = ExecutorCalls.storedGasBound(
            i_executor,
            chunks,
            size
        );
        if (loaded != programHash) revert ReexecutionProgramMismatch(loaded, programHash);
        uint256 programWords = (size + 31) / 32;
        uint256 inputWords = (inputBytes + 31) / 32;
        uint256 outputWords = 4 + (outputBytes + 31) / 32;
        // Frames, innermost first; each call forwards at most 63/64 of what its caller has left (EIP-150), so the
        // caller needs 64/63 of the callee's gas. This resolver's frame: the call buffer (program and input, one
        // copy), the evidence hashed, three copies of the output (return data, decoded, returned), the chunks'
        // loading and the program's hash, around the executor's call.
        uint256 words = FRAME_WORDS + programWords + inputWords + 3 * outputWords;
        uint256 frame =
            chunks.length * CHUNK_GAS +
                PROGRAM_WORD_GAS * programWords +
                (COPY_WORD_GAS + 6) * inputWords +
                COPY_WORD_GAS * 3 * outputWords +
                _memory(words) +
                (executionGas * 64) / 63 +
                1;
        // DisputeLogic's frame (DELEGATECALL from the coordinator): the call to this resolver with the request and
        // the evidence as arguments, the verdict's output decoded, and the consumer callback (its gas kept back
        // with a 5,000-gas reserve, CoordinatorStorage.deliver) with the output in its payload.
        words = FRAME_WORDS + inputWords + 3 * outputWords;
        frame =
            _memory(words) +
            COPY_WORD_GAS * (inputWords + 3 * outputWords) +
            (frame * 64) / 63 +
            1 +
            ((callbackGasLimit + 5_000) * 64) / 63 +
            1;
        // The coordinator's frame: the evidence in calldata and copied into the DELEGATECALL's arguments.
        words = FRAME_WORDS + inputWords;
        return DISPUTE_BASE_GAS + 16 * inputBytes + _memory(words) + COPY_WORD_GAS * inputWords + (frame * 64) / 63 + 1;
    }

    /// @dev The memory expansion cost of `words` words (3 gas a word plus words^2 / 512).
    function _memory(uint256 words) private pure returns (uint256) {
        return 3 * words + (words * words) / 512;
    }

    /// @inheritdoc IReexecutionResolver
    function maxDisputeGas() external view returns (uint256) {
        return i_maxDisputeGas;
    }

    /// @inheritdoc IReexecutionResolver
    function disputeGasPriceWei() external view returns (uint256) {
        return i_disputeGasPriceWei;
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
        return _isWrongResult(modelId, input, resultCode, outputHash);
    }

    /// @inheritdoc IDisputeResolver
    /// @dev Integer programs are deterministic: one input, one result.
    function exactResults(bytes32) external pure returns (bool) {
        return true;
    }

    /// @inheritdoc IDisputeResolver
    /// @dev Always decidable: the re-execution (`isWrongResult`).
    function checkResult(
        bytes32 modelId,
        bytes calldata input,
        uint8 resultCode,
        bytes32 outputHash
    ) external view returns (bool decidable, bool wrong) {
        return (true, _isWrongResult(modelId, input, resultCode, outputHash));
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

    function _isWrongResult(
        bytes32 modelId,
        bytes calldata input,
        uint8 resultCode,
        bytes32 outputHash
    ) private view returns (bool) {
        (uint8 code, bytes memory output) = _reexecute(modelId, input);
        return code != resultCode || keccak256(output) != outputHash;
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
