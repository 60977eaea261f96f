// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceCoordinator} from "./IInferenceCoordinator.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

/// @title IDisputeResolver
/// @notice A resolver decides disputes for one verification mode (re-execution, bisection, quorum), and says
/// what else of its mode the coordinator and the registry need to know, so that neither branches on the mode:
/// which models it accepts (`checkModel`), whether a model's results are exact (`exactResults`, which decides what
/// counts as equivocation) and whether it can decide a fraud proof on chain (`checkResult`). The coordinator hands
/// it each new dispute; the resolver either decides at once (returns `decided`) or later calls
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

    /// @notice Whether one (model, input) has exactly one correct result, whatever the request: then two different
    /// answers signed by one operator prove a lie, across requests and off-chain receipts (slashEquivocation).
    /// False where a model's outputs may legitimately differ between runtimes (float models): then only two
    /// answers to the same request count.
    /// @param modelId A registered model of this resolver's mode.
    /// @return True for exact results.
    function exactResults(bytes32 modelId) external view returns (bool);

    /// @notice Whether (resultCode, outputHash) is not the model's correct result on `input`, as the coordinator
    /// asks for a fraud proof against an off-chain attestation (proveFraud).
    /// @param modelId A registered model of this resolver's mode.
    /// @param input The input bytes.
    /// @param resultCode The claimed result code.
    /// @param outputHash The claimed keccak256 of the output.
    /// @return decidable False when this mode cannot decide it on chain (the coordinator then refuses the proof).
    /// @return wrong When decidable: true when the claim is not the correct result.
    function checkResult(
        bytes32 modelId,
        bytes calldata input,
        uint8 resultCode,
        bytes32 outputHash
    ) external view returns (bool decidable, bool wrong);
}
