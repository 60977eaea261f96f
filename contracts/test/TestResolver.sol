// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDisputeResolver} from "../interfaces/IDisputeResolver.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @notice Test-only dispute resolver: the test decides each verdict, either at once (via a preset) or later.
contract TestResolver is IDisputeResolver {
    error TestResolverNotCoordinator(address caller);

    IInferenceCoordinator private immutable i_coordinator;

    bool private s_decideNow;
    IInferenceCoordinator.Verdict private s_preset;
    uint256 public disputesOpened;
    bytes public lastEvidence;
    address public lastChallenger;

    constructor(IInferenceCoordinator coordinator) {
        i_coordinator = coordinator;
    }

    /// @notice Makes the next disputes resolve at once with `verdict` (or stay open when decideNow is false).
    function preset(bool decideNow, IInferenceCoordinator.Verdict calldata verdict) external {
        s_decideNow = decideNow;
        s_preset = verdict;
    }

    /// @inheritdoc IDisputeResolver
    function onDisputeOpened(
        IInferenceCoordinator.Request calldata,
        address challenger,
        bytes calldata evidence
    ) external returns (bool decided, IInferenceCoordinator.Verdict memory verdict) {
        if (msg.sender != address(i_coordinator)) revert TestResolverNotCoordinator(msg.sender);
        ++disputesOpened;
        lastEvidence = evidence;
        lastChallenger = challenger;
        return (s_decideNow, s_preset);
    }

    /// @inheritdoc IDisputeResolver
    /// @dev Accepts every model (tests of the other modes register placeholder programs).
    function checkModel(IModelRegistry.ModelSpec calldata) external pure returns (uint256 disputeGas) {
        return 0;
    }

    /// @inheritdoc IDisputeResolver
    /// @dev As the real modes: exact for every mode but QUORUM (this resolver stands in for several at once).
    function exactResults(bytes32 modelId) external view returns (bool) {
        IModelRegistry registry = IModelRegistry(i_coordinator.registry());
        return registry.getModelTerms(modelId).mode != IModelRegistry.VerificationMode.QUORUM;
    }

    /// @inheritdoc IDisputeResolver
    /// @dev Decides no fraud proof (only re-execution can).
    function checkResult(bytes32, bytes calldata, uint8, bytes32) external pure returns (bool decidable, bool wrong) {
        return (false, false);
    }

    /// @notice Decides an open dispute later.
    function decide(
        IInferenceCoordinator.Request calldata request,
        IInferenceCoordinator.Verdict calldata verdict
    ) external {
        i_coordinator.resolveDispute(request, verdict);
    }
}
