// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VerityConsumer} from "../consumer/VerityConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";

/// @notice Test-only consumer whose callback can behave well or attack the coordinator.
contract TestConsumer is VerityConsumer {
    enum Behaviour {
        /// Store the result (one word) and the gas the callback started with.
        Store,
        /// Revert.
        Revert,
        /// Burn every unit of gas it gets.
        BurnGas,
        /// Try to re-enter the coordinator (finalize again, withdraw, request again) and record the outcome.
        Reenter,
        /// Return a 1 MiB payload (a return-data bomb).
        ReturnBomb,
        /// Call the coordinator with the calldata set by `setReentryCall` and record the outcome.
        ReenterCall
    }

    error TestConsumerReverted(uint256 requestId);

    Behaviour public behaviour;
    uint256 public lastRequestId;
    uint8 public lastResultCode;
    bytes32 public lastOutputHash;
    uint256 public gasAtCallback;
    uint256 public callbacks;
    bool public reentrySucceeded;
    bytes public reentryError;

    IInferenceCoordinator.Request private s_reenterRequest;
    bytes private s_reenterOutput;
    bytes private s_reenterCall;

    constructor(IInferenceCoordinator coordinator_) VerityConsumer(coordinator_) {}

    function setBehaviour(Behaviour b) external {
        behaviour = b;
    }

    /// @notice The request and output the Reenter behaviour tries to finalize again from inside the callback.
    function setReentryTarget(IInferenceCoordinator.Request calldata target, bytes calldata output) external {
        s_reenterRequest = target;
        s_reenterOutput = output;
    }

    /// @notice The coordinator calldata the ReenterCall behaviour sends from inside the callback.
    function setReentryCall(bytes calldata data) external {
        s_reenterCall = data;
    }

    function request(
        bytes32 modelId,
        bytes calldata input,
        IInferenceCoordinator.RequestOptions calldata options
    ) external returns (uint256) {
        return coordinator().requestInference(modelId, input, options);
    }

    function requestSimple(bytes32 modelId, bytes calldata input, uint32 gasLimit) external returns (uint256) {
        return _requestInference(modelId, input, gasLimit, 1 hours, type(uint96).max);
    }

    function cancel(IInferenceCoordinator.Request calldata request_) external {
        coordinator().cancelRequest(request_);
    }

    function withdrawTo(address to, uint256 amount) external {
        coordinator().withdraw(to, amount);
    }

    function _onInferenceResult(uint256 requestId, uint8 resultCode, bytes calldata output) internal override {
        uint256 gasAtEntry = gasleft();
        Behaviour b = behaviour;
        if (b == Behaviour.Store) {
            gasAtCallback = gasAtEntry;
            lastRequestId = requestId;
            lastResultCode = resultCode;
            lastOutputHash = keccak256(output);
            ++callbacks;
        } else if (b == Behaviour.Revert) {
            revert TestConsumerReverted(requestId);
        } else if (b == Behaviour.BurnGas) {
            // Loops until the callback's gas is gone.
            uint256 i;
            while (true) {
                ++i;
            }
        } else if (b == Behaviour.Reenter) {
            ++callbacks;
            lastRequestId = requestId;
            try coordinator().finalize(s_reenterRequest, s_reenterOutput) {
                reentrySucceeded = true;
            } catch (bytes memory err) {
                reentryError = err;
            }
        } else if (b == Behaviour.ReenterCall) {
            ++callbacks;
            (bool ok, bytes memory err) = address(coordinator()).call(s_reenterCall);
            reentrySucceeded = ok;
            reentryError = err;
        } else {
            assembly {
                return(0, 0x100000)
            }
        }
    }
}
