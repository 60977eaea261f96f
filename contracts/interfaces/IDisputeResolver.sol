// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceCoordinator} from "./IInferenceCoordinator.sol";

/// @title IDisputeResolver
/// @notice A resolver decides disputes for one verification mode (re-execution, bisection, quorum). The
/// coordinator hands it each new dispute; the resolver either decides at once (returns `decided`) or later calls
/// IInferenceCoordinator.resolveDispute. A dispute the resolver leaves open past the coordinator's
/// `disputeTimeoutSeconds` expires with no slash.
interface IDisputeResolver {
    /// @notice Called by the coordinator when `challenger` disputes a submitted result.
    /// @param request The disputed request (status Disputed).
    /// @param challenger Who opened the dispute.
    /// @param evidence Opaque data supplied by the challenger.
    /// @return decided True when `verdict` is final and the coordinator should apply it now.
    /// @return verdict The decision, when decided.
    function onDisputeOpened(
        IInferenceCoordinator.Request calldata request,
        address challenger,
        bytes calldata evidence
    ) external returns (bool decided, IInferenceCoordinator.Verdict memory verdict);
}
