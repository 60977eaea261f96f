// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeResolver} from "../../interfaces/IDisputeResolver.sol";

/// @title IReexecutionResolver
/// @notice The dispute resolver of REEXECUTION models: it decides a dispute in the transaction that opens it by
/// re-executing the model's on-chain program on the request's input (supplied by the challenger as the dispute's
/// evidence) and comparing result code and output hash with what the operator submitted. When the operator was
/// wrong, the verdict carries the correct result, which the coordinator delivers to the consumer.
/// It also checks fraud proofs: `isWrongResult` tells the coordinator whether an operator's off-chain attestation
/// of (model, input, result) disagrees with the re-execution.
interface IReexecutionResolver is IDisputeResolver {
    /// @notice Emitted for every dispute decided by re-execution.
    /// @param requestId The disputed request.
    /// @param modelId Its model.
    /// @param operatorAtFault True when the submitted result differs from the re-execution.
    /// @param resultCode The re-execution's result code.
    /// @param outputHash keccak256 of the re-execution's output.
    event ResultReexecuted(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        bool operatorAtFault,
        uint8 resultCode,
        bytes32 outputHash
    );

    /// @notice Only the coordinator may open disputes.
    error ReexecutionNotCoordinator(address have, address want);
    /// @notice The evidence is not the request's input (its keccak256 differs from the request's inputHash).
    error ReexecutionInputMismatch(bytes32 have, bytes32 want);
    /// @notice The model is not a REEXECUTION model.
    error ReexecutionWrongMode(bytes32 modelId);
    /// @notice The program store returned bytes whose hash is not the model's programHash.
    error ReexecutionProgramMismatch(bytes32 have, bytes32 want);
    /// @notice The program is not in the program store (store it before registering the model).
    error ReexecutionProgramNotStored(bytes32 programHash);
    /// @notice A dispute over the model's results could cost more gas than the resolver's stated bound, so it
    /// might not fit in a block: the model cannot be REEXECUTION.
    /// @param have The worst-case dispute gas (`disputeGasBound` with the largest callback and input).
    /// @param max The bound (`maxDisputeGas`).
    error ReexecutionDisputeTooExpensive(uint256 have, uint256 max);
    /// @notice The collateral is too small for a challenger's reward to pay for the dispute's gas at the
    /// deployment's stated gas price.
    /// @param have The model's collateral.
    /// @param want The least collateral: disputeGas × disputeGasPriceWei × 10,000 / challengerRewardBps.
    error ReexecutionCollateralTooLow(uint96 have, uint256 want);

    /// @notice The canonical result of a model on an input: what an honest operator submits.
    /// @dev Costs the full re-execution (see IntegerExecutor's gas model); meant for eth_call by challengers and
    /// clients, and used by disputes and fraud proofs.
    /// @param modelId A registered REEXECUTION model.
    /// @param input The request's input bytes (a canonical tensor list; anything else is INVALID_INPUT).
    /// @return resultCode OK, INVALID_INPUT or MODEL_ERROR.
    /// @return output The canonical output tensor list (empty for the error codes).
    function reexecute(
        bytes32 modelId,
        bytes calldata input
    ) external view returns (uint8 resultCode, bytes memory output);

    /// @notice Whether (resultCode, outputHash) is NOT the canonical result of the model on the input.
    /// @param modelId A registered REEXECUTION model.
    /// @param input The input bytes.
    /// @param resultCode The claimed result code.
    /// @param outputHash The claimed keccak256 of the output.
    /// @return True when the claim differs from the re-execution.
    function isWrongResult(
        bytes32 modelId,
        bytes calldata input,
        uint8 resultCode,
        bytes32 outputHash
    ) external view returns (bool);

    /// @notice An upper bound on the gas of a dispute transaction over a result of the program `programHash`:
    /// the coordinator's challenge and verdict, loading and re-hashing the program, the executor's `gasBound`, the
    /// consumer callback with `callbackGasLimit`, an input of `inputBytes` in calldata, and the 63/64 rule at
    /// each call. Reverts for a program that is not stored or is malformed.
    /// @param programHash A stored program.
    /// @param callbackGasLimit The request's callback gas limit.
    /// @param inputBytes The length of the request's input.
    /// @return The bound, in gas.
    function disputeGasBound(
        bytes32 programHash,
        uint256 callbackGasLimit,
        uint256 inputBytes
    ) external view returns (uint256);

    /// @notice The most gas a dispute may need for a model to be registered (a model whose disputes might need
    /// more is refused at registration).
    /// @return Gas.
    function maxDisputeGas() external view returns (uint256);

    /// @notice Stake-token base units per unit of gas at which a challenger's reward must pay for a dispute
    /// (the collateral floor; 0: no floor).
    /// @return Stake-token base units per gas.
    function disputeGasPriceWei() external view returns (uint256);

    /// @notice The coordinator this resolver serves.
    /// @return The coordinator's address.
    function coordinator() external view returns (address);

    /// @notice The registry the program hashes come from.
    /// @return The registry's address.
    function registry() external view returns (address);

    /// @notice Where programs are stored.
    /// @return The program store's address.
    function programStore() external view returns (address);

    /// @notice The program interpreter.
    /// @return The executor's address.
    function executor() external view returns (address);
}
