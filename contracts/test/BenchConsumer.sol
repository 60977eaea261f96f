// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VerityConsumer} from "../consumer/VerityConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";

/// @notice Test-only consumer for gas benchmarks: forwards requests and stores one word per callback.
contract BenchConsumer is VerityConsumer {
    uint256 public lastRequestId;

    constructor(IInferenceCoordinator coordinator_) VerityConsumer(coordinator_) {}

    function request(
        bytes32 modelId,
        bytes calldata input,
        IInferenceCoordinator.RequestOptions calldata options
    ) external returns (uint256) {
        return coordinator().requestInference(modelId, input, options);
    }

    function cancel(IInferenceCoordinator.Request calldata request_) external {
        _cancelRequest(request_);
    }

    function _onInferenceResult(uint256 requestId, uint8, bytes calldata) internal override {
        lastRequestId = requestId;
    }
}
