// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceCoordinator} from "./IInferenceCoordinator.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

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

    /// @notice Called by the registry before it registers a model of this resolver's mode: reverts, naming the
    /// reason, unless every dispute over a result of the model can be decided (for REEXECUTION: the program is
    /// stored and valid, and a dispute's worst-case gas fits the resolver's stated bound).
    /// @param spec The registration.
    /// @return disputeGas An upper bound on the gas of a dispute over one of the model's results (0 if the mode
    /// has none to state).
    function checkModel(IModelRegistry.ModelSpec calldata spec) external view returns (uint256 disputeGas);
}
