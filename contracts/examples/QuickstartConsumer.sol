// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {VerityConsumer} from "../consumer/VerityConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {Tensors} from "../libraries/Tensors.sol";
import {ResultCodes} from "../libraries/ResultCodes.sol";

/// @title QuickstartConsumer
/// @notice The consumer contract of the README's quick start, kept here so that it compiles and is tested
/// (test/contracts/QuickstartConsumer.spec.ts) and the README cannot rot: the README's snippet must match the
/// contract below verbatim. It shows the whole life of the consumer's money: a prepaid balance at the coordinator
/// (funded with `coordinator.deposit`), fees spent from it by `ask` (open to anyone here: restrict it in a contract
/// of your own), and the owner (the deployer) cancelling what nobody served and withdrawing what is left, refunds
/// included. Without `cancel` and `withdraw` that money would be stuck: only this contract can move it.
contract QuickstartConsumer is VerityConsumer, Ownable {
    bytes32 private immutable i_modelId;
    int256 public lastAnswer;

    constructor(IInferenceCoordinator coordinator_, bytes32 modelId) VerityConsumer(coordinator_) Ownable(msg.sender) {
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

    // A request nobody served by its deadline: its fee returns to this contract's prepaid balance.
    function cancel(IInferenceCoordinator.Request calldata request) external onlyOwner {
        _cancelRequest(request);
    }

    // Takes money out of the prepaid balance: unspent deposits, refunds of cancelled or disproven requests.
    function withdraw(address to, uint256 amountWei) external onlyOwner {
        _withdrawBalance(to, amountWei);
    }

    function _onInferenceResult(uint256, uint8 resultCode, bytes calldata output) internal override {
        if (resultCode != ResultCodes.OK) return; // malformed input, model error, or voided by a dispute
        // The first element of the first output (for the Iris model: the predicted class).
        lastAnswer = Tensors.elementAt(output, 0, 0);
    }
}
