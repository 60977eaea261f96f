// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VerityConsumer} from "../consumer/VerityConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";

/// @notice Test-only consumer that records every callback per request, so end-to-end tests can check each
/// request's output and that it was delivered exactly once.
contract RecordingConsumer is VerityConsumer {
    struct Delivery {
        uint8 resultCode;
        uint32 count;
        bytes output;
    }

    mapping(uint256 requestId => Delivery) private s_deliveries;
    uint256 public totalCallbacks;

    constructor(IInferenceCoordinator coordinator_) VerityConsumer(coordinator_) {}

    /// @notice Requests inference with explicit options (the caller funds this contract's coordinator balance).
    function request(
        bytes32 modelId,
        bytes calldata input,
        IInferenceCoordinator.RequestOptions calldata options
    ) external returns (uint256) {
        return coordinator().requestInference(modelId, input, options);
    }

    /// @notice Cancels one of this contract's requests after its deadline.
    function cancel(IInferenceCoordinator.Request calldata request_) external {
        coordinator().cancelRequest(request_);
    }

    /// @notice What was delivered for `requestId` (count 0: nothing yet).
    function delivery(uint256 requestId) external view returns (Delivery memory) {
        return s_deliveries[requestId];
    }

    function _onInferenceResult(uint256 requestId, uint8 resultCode, bytes calldata output) internal override {
        Delivery storage d = s_deliveries[requestId];
        d.resultCode = resultCode;
        d.output = output;
        ++d.count;
        ++totalCallbacks;
    }
}
