// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";

/// @title VerityConsumer
/// @notice Base contract for consumers of Verity inference: inherit it, call `_requestInference`, and implement
/// `_onInferenceResult`.
/// @dev SECURITY CONSIDERATIONS
/// - Only the coordinator can deliver results (`onInferenceResult` reverts for any other caller), so a result in
///   `_onInferenceResult` is one that settled: its challenge window passed unchallenged, or a dispute decided it.
/// - Results arrive once per request, after finality; never act on InferenceRequested or ResultSubmitted events.
/// - A request ends in exactly one of: a callback, or your own `_cancelRequest` after its deadline. A callback that
///   reverted is not delivered again: `coordinator().callbackFailed(requestId)` tells that it ended that way.
/// - The callback runs with exactly the gas limit you paid for. If it reverts or runs out of gas the result is
///   still settled (recorded by the coordinator as a failed callback) and is not delivered again: keep
///   `_onInferenceResult` cheap and non-reverting, and store what you need to act later.
/// - Check `resultCode` before decoding: an operator may answer with an error code (e.g. malformed input), and a
///   request whose result was proven wrong without a replacement arrives as ResultCodes.VOIDED.
/// - The coordinator's reentrancy lock is held during the callback: you cannot request again from inside it.
/// - Your money lives in this contract's prepaid balance at the coordinator (`IInferenceCoordinator.deposit` credits
///   it; `coordinator().balanceOf(address(this))` reads it). Fees are taken from it, and every refund returns to it:
///   the fee of a request you cancel after its deadline, of a result a dispute proved wrong (voided or corrected),
///   of a dispute that expired undecided. Only this contract can cancel its requests and withdraw that balance, so
///   expose `_cancelRequest` and `_withdrawBalance` to whoever owns the money (behind access control, as
///   QuickstartConsumer does), or it is stuck at the coordinator for good. Anyone who can reach `_withdrawBalance`
///   can take it all, and anyone who can reach `_requestInference` can spend it on fees.
abstract contract VerityConsumer is IInferenceConsumer {
    /// @notice The caller is not the coordinator.
    error VerityConsumerOnlyCoordinator(address have, address want);

    IInferenceCoordinator private immutable i_coordinator;

    /// @param coordinator_ The InferenceCoordinator this consumer uses.
    constructor(IInferenceCoordinator coordinator_) {
        i_coordinator = coordinator_;
    }

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(uint256 requestId, uint8 resultCode, bytes calldata output) external {
        if (msg.sender != address(i_coordinator)) {
            revert VerityConsumerOnlyCoordinator(msg.sender, address(i_coordinator));
        }
        _onInferenceResult(requestId, resultCode, output);
    }

    /// @notice The coordinator this consumer uses.
    /// @return The coordinator.
    function coordinator() public view returns (IInferenceCoordinator) {
        return i_coordinator;
    }

    /// @notice Requests inference, paying from this contract's prepaid balance at the coordinator.
    /// @param modelId The model.
    /// @param input Canonical tensor-list encoding of the inputs (see Tensors.encode).
    /// @param callbackGasLimit Gas `_onInferenceResult` gets.
    /// @param timeoutSeconds Seconds until the request may be cancelled if nobody served it.
    /// @param maxFeeWei The most this request may cost (`coordinator().quoteFee` tells the current fee).
    /// @return requestId The request id.
    function _requestInference(
        bytes32 modelId,
        bytes memory input,
        uint32 callbackGasLimit,
        uint40 timeoutSeconds,
        uint96 maxFeeWei
    ) internal returns (uint256 requestId) {
        return
            i_coordinator.requestInference(
                modelId,
                input,
                IInferenceCoordinator.RequestOptions({
                    callbackGasLimit: callbackGasLimit,
                    deadline: uint40(block.timestamp) + timeoutSeconds,
                    preferredOperator: address(0),
                    maxFeeWei: maxFeeWei
                })
            );
    }

    /// @notice Cancels a request of this consumer that nobody served before its deadline; the fee returns to this
    /// contract's prepaid balance.
    /// @param request The request as emitted in InferenceRequested.
    function _cancelRequest(IInferenceCoordinator.Request calldata request) internal {
        i_coordinator.cancelRequest(request);
    }

    /// @notice Sends `amountWei` of this contract's prepaid balance at the coordinator to `to`: unspent deposits and
    /// refunds (cancelled requests, results a dispute proved wrong). Guard whatever calls it: it moves your money.
    /// @dev Reverts with the coordinator's CoordinatorInsufficientBalance above the balance, CoordinatorZeroValue
    /// for a zero amount or recipient.
    /// @param to Recipient of the stake tokens.
    /// @param amountWei Amount, at most `coordinator().balanceOf(address(this))`.
    function _withdrawBalance(address to, uint256 amountWei) internal {
        i_coordinator.withdraw(to, amountWei);
    }

    /// @notice Handles a settled result. Keep it cheap and non-reverting.
    /// @param requestId The request.
    /// @param resultCode ResultCodes.OK or an error code.
    /// @param output The canonical tensor-list encoding of the outputs.
    function _onInferenceResult(uint256 requestId, uint8 resultCode, bytes calldata output) internal virtual;
}
