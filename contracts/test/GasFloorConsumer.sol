// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {GasFloor} from "./GasFloor.sol";

/// @notice Bench-only consumer of GasFloor: forwards requests and stores one word per callback, as BenchConsumer
/// does for the coordinator.
contract GasFloorConsumer is IInferenceConsumer {
    error NotFloor(address caller);

    GasFloor private immutable i_floor;
    uint256 public lastRequestId;

    constructor(GasFloor floor) {
        i_floor = floor;
    }

    function request(
        bytes32 modelId,
        bytes calldata input,
        uint32 callbackGasLimit,
        uint40 deadline
    ) external returns (uint256) {
        return i_floor.request(modelId, input, callbackGasLimit, deadline, address(0));
    }

    function onInferenceResult(uint256 requestId, uint8, bytes calldata) external {
        if (msg.sender != address(i_floor)) revert NotFloor(msg.sender);
        lastRequestId = requestId;
    }
}
