// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VerityConsumer} from "../consumer/VerityConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {Tensors} from "../libraries/Tensors.sol";
import {ResultCodes} from "../libraries/ResultCodes.sol";

/// @title QuickstartConsumer
/// @notice The consumer contract of the README's quick start, kept here so that it compiles and is tested
/// (test/contracts/QuickstartConsumer.spec.ts) and the README cannot rot: the README's snippet must match the
/// contract below verbatim.
contract QuickstartConsumer is VerityConsumer {
    bytes32 private immutable i_modelId;
    int256 public lastAnswer;

    constructor(IInferenceCoordinator coordinator_, bytes32 modelId) VerityConsumer(coordinator_) {
        i_modelId = modelId;
    }

    function ask(int8[] calldata features) external returns (uint256 requestId) {
        Tensors.Tensor memory x = Tensors.int8Vector(features); // shape [N]
        x.shape = new uint32[](2); // a batch of one, as the Iris model declares it: [1, N]
        (x.shape[0], x.shape[1]) = (1, uint32(features.length));
        bytes memory input = Tensors.encode(Tensors.single(x));
        // Gas for the callback, time before the request may be cancelled, and the most it may cost.
        return _requestInference(i_modelId, input, 100_000, 1 hours, 1e18);
    }

    function _onInferenceResult(uint256, uint8 resultCode, bytes calldata output) internal override {
        if (resultCode != ResultCodes.OK) return; // malformed input, model error, or voided by a dispute
        // The first element of the first output (for the Iris model: the predicted class).
        lastAnswer = Tensors.elementAt(output, 0, 0);
    }
}
