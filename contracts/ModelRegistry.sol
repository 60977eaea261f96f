// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IProgramStore} from "./interfaces/IProgramStore.sol";
import {IInferenceCoordinator} from "./interfaces/IInferenceCoordinator.sol";
import {IDisputeResolver} from "./interfaces/IDisputeResolver.sol";

/// @title ModelRegistry
/// @notice Permissionless registry of ONNX models served by Verity operators.
/// @dev SECURITY CONSIDERATIONS
/// - Anyone may register a model; the id is keccak256(owner, salt), so nobody can squat another publisher's ids.
/// - Hashes, URI, mode, collateral and window are immutable once registered: a consumer that trusts a model id
///   trusts exactly those bytes and rules. Only the fee can change, and requests snapshot the fee they paid.
/// - A REEXECUTION or BISECTION model can only be registered once its program is in the ProgramStore, so a
///   dispute can always load it. The store is content-addressed (it hashes what it holds), so programHash binds
///   the exact program; the ONNX hash and program hash are registered together and never change.
/// - No model is registered whose results could not be disputed: the resolver of its mode (looked up on the bound
///   coordinator) must accept it first (`checkModel`: for REEXECUTION, a valid program whose worst-case dispute
///   fits the resolver's gas bound). A mode without a resolver accepts no models. The binding to the coordinator
///   is made once by the deployer (the coordinator is deployed after the registry); until then nothing registers.
/// - Deactivation is one-way and stops new requests only; in-flight requests complete under their snapshot.
/// - Every change of a model's terms (registration, fee, deactivation) is written to the bound coordinator's copy
///   in the same transaction (`syncModelTerms`), so the two never disagree; the coordinator accepts it only from
///   this registry.
/// - The bounds on the challenge window and collateral are immutable. The staking contract's unbonding delay is
///   checked against `maxChallengeWindowSeconds` by the coordinator at deployment.
contract ModelRegistry is IModelRegistry {
    /// @notice Longest URI accepted, in bytes.
    uint256 public constant MAX_URI_BYTES = 512;

    uint32 private immutable i_minChallengeWindowSeconds;
    uint32 private immutable i_maxChallengeWindowSeconds;
    uint96 private immutable i_minCollateralWei;
    IProgramStore private immutable i_programStore;
    address private immutable i_deployer;

    IInferenceCoordinator private s_coordinator;

    mapping(bytes32 modelId => Model) private s_models;

    /// @param minWindowSeconds Shortest challenge window (non-zero).
    /// @param maxWindowSeconds Longest challenge window.
    /// @param minCollateral Smallest collateral per result (non-zero).
    /// @param programStore_ Where the on-chain programs of REEXECUTION and BISECTION models are stored.
    constructor(uint32 minWindowSeconds, uint32 maxWindowSeconds, uint96 minCollateral, IProgramStore programStore_) {
        if (minWindowSeconds == 0 || maxWindowSeconds < minWindowSeconds) {
            revert ModelRegistryInvalidChallengeWindow(minWindowSeconds, 1, maxWindowSeconds);
        }
        if (minCollateral == 0) revert ModelRegistryCollateralTooLow(0, 1);
        if (address(programStore_) == address(0)) revert ModelRegistryZeroProgramStore();
        i_programStore = programStore_;
        i_minChallengeWindowSeconds = minWindowSeconds;
        i_maxChallengeWindowSeconds = maxWindowSeconds;
        i_minCollateralWei = minCollateral;
        i_deployer = msg.sender;
    }

    /// @inheritdoc IModelRegistry
    function bindCoordinator(address coordinator_) external {
        if (msg.sender != i_deployer) revert ModelRegistryNotDeployer(msg.sender, i_deployer);
        if (address(s_coordinator) != address(0)) revert ModelRegistryAlreadyBound(address(s_coordinator));
        if (coordinator_ == address(0)) revert ModelRegistryNotBound();
        // Only the coordinator built on this registry: a typo or a stray contract cannot take its place.
        address itsRegistry = IInferenceCoordinator(coordinator_).registry();
        if (itsRegistry != address(this)) revert ModelRegistryForeignCoordinator(coordinator_, itsRegistry);
        s_coordinator = IInferenceCoordinator(coordinator_);
        emit CoordinatorBound(coordinator_);
    }

    /// @inheritdoc IModelRegistry
    function registerModel(bytes32 salt, ModelSpec calldata spec) external returns (bytes32 modelId) {
        modelId = computeModelId(msg.sender, salt);
        if (s_models[modelId].owner != address(0)) revert ModelRegistryAlreadyRegistered(modelId);
        if (spec.onnxHash == bytes32(0) || spec.manifestHash == bytes32(0)) revert ModelRegistryMissingHash();
        if (spec.mode != VerificationMode.QUORUM) {
            if (spec.programHash == bytes32(0)) revert ModelRegistryMissingProgramHash(spec.mode);
            if (!i_programStore.exists(spec.programHash)) revert ModelRegistryProgramNotStored(spec.programHash);
        }
        uint256 uriLength = bytes(spec.uri).length;
        if (uriLength == 0 || uriLength > MAX_URI_BYTES) revert ModelRegistryInvalidUri(uriLength, MAX_URI_BYTES);
        if (
            spec.challengeWindowSeconds < i_minChallengeWindowSeconds ||
            spec.challengeWindowSeconds > i_maxChallengeWindowSeconds
        ) {
            revert ModelRegistryInvalidChallengeWindow(
                spec.challengeWindowSeconds,
                i_minChallengeWindowSeconds,
                i_maxChallengeWindowSeconds
            );
        }
        if (spec.collateralWei < i_minCollateralWei) {
            revert ModelRegistryCollateralTooLow(spec.collateralWei, i_minCollateralWei);
        }

        Model storage model = s_models[modelId];
        model.owner = msg.sender;
        model.onnxHash = spec.onnxHash;
        model.manifestHash = spec.manifestHash;
        model.programHash = spec.programHash;
        model.terms = ModelTerms({
            feeWei: spec.feeWei,
            collateralWei: spec.collateralWei,
            challengeWindowSeconds: spec.challengeWindowSeconds,
            mode: spec.mode,
            active: true
        });
        model.uri = spec.uri;

        emit ModelRegistered(
            modelId,
            msg.sender,
            spec.onnxHash,
            spec.manifestHash,
            spec.programHash,
            spec.mode,
            spec.feeWei,
            spec.collateralWei,
            spec.challengeWindowSeconds,
            spec.uri
        );
        _checkDisputable(modelId, spec);
        s_coordinator.syncModelTerms(modelId, model.terms);
    }

    /// @inheritdoc IModelRegistry
    function setModelFee(bytes32 modelId, uint96 feeWei) external {
        Model storage model = _ownedModel(modelId);
        if (!model.terms.active) revert ModelRegistryInactive(modelId);
        uint96 oldFee = model.terms.feeWei;
        model.terms.feeWei = feeWei;
        emit ModelFeeUpdated(modelId, oldFee, feeWei);
        s_coordinator.syncModelTerms(modelId, model.terms);
    }

    /// @inheritdoc IModelRegistry
    function deactivateModel(bytes32 modelId) external {
        Model storage model = _ownedModel(modelId);
        if (!model.terms.active) revert ModelRegistryInactive(modelId);
        model.terms.active = false;
        emit ModelDeactivated(modelId);
        s_coordinator.syncModelTerms(modelId, model.terms);
    }

    /// @inheritdoc IModelRegistry
    function computeModelId(address owner, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, salt));
    }

    /// @inheritdoc IModelRegistry
    function getModel(bytes32 modelId) external view returns (Model memory) {
        return _existingModel(modelId);
    }

    /// @inheritdoc IModelRegistry
    function getModelTerms(bytes32 modelId) external view returns (ModelTerms memory) {
        return _existingModel(modelId).terms;
    }

    /// @inheritdoc IModelRegistry
    function minChallengeWindowSeconds() external view returns (uint32) {
        return i_minChallengeWindowSeconds;
    }

    /// @inheritdoc IModelRegistry
    function maxChallengeWindowSeconds() external view returns (uint32) {
        return i_maxChallengeWindowSeconds;
    }

    /// @inheritdoc IModelRegistry
    function coordinator() external view returns (address) {
        return address(s_coordinator);
    }

    /// @inheritdoc IModelRegistry
    function programStore() external view returns (address) {
        return address(i_programStore);
    }

    /// @inheritdoc IModelRegistry
    function minCollateralWei() external view returns (uint96) {
        return i_minCollateralWei;
    }

    /// @dev Reverts, naming the reason, unless the resolver of the model's mode accepts it (every dispute over its
    /// results can be decided). A view call (STATICCALL): the resolver cannot change state.
    function _checkDisputable(bytes32 modelId, ModelSpec calldata spec) private {
        IInferenceCoordinator coordinator_ = s_coordinator;
        if (address(coordinator_) == address(0)) revert ModelRegistryNotBound();
        address resolver = coordinator_.getResolver(spec.mode);
        if (resolver == address(0)) revert ModelRegistryNoResolver(spec.mode);
        uint256 disputeGas = IDisputeResolver(resolver).checkModel(spec);
        emit ModelDisputeChecked(modelId, resolver, disputeGas);
    }

    function _existingModel(bytes32 modelId) private view returns (Model storage model) {
        model = s_models[modelId];
        if (model.owner == address(0)) revert ModelRegistryUnknownModel(modelId);
    }

    function _ownedModel(bytes32 modelId) private view returns (Model storage model) {
        model = _existingModel(modelId);
        if (model.owner != msg.sender) revert ModelRegistryNotOwner(msg.sender, model.owner);
    }
}
