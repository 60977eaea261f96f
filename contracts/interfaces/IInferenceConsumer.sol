// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IInferenceConsumer
/// @notice Implemented by contracts that receive Verity inference results.
interface IInferenceConsumer {
    /// @notice Delivers the settled result of a request. Called by the coordinator only, with exactly the
    /// callback gas limit the request paid for. A revert here is recorded but never blocks settlement.
    /// @param requestId The request.
    /// @param resultCode 0 (RESULT_OK) when `output` holds the model's output tensors; otherwise an error code
    /// from IInferenceCoordinator (invalid input, model error, voided by a dispute).
    /// @param output The canonical tensor-list encoding of the outputs (empty for most error codes).
    function onInferenceResult(uint256 requestId, uint8 resultCode, bytes calldata output) external;
}
