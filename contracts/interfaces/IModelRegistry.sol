// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IModelRegistry
/// @notice Registry of ONNX models that Verity operators serve. A model binds the hash of its ONNX bytes, the
/// hash of its manifest (I/O spec: names, dtypes, shapes, decimals), the hash of its on-chain program (for
/// integer-exact models), its verification mode and its economic terms.
interface IModelRegistry {
    /// @notice How a dispute over a model's result is decided. Fixed at registration.
    enum VerificationMode {
        /// Integer-only model small enough to be re-executed on-chain in one transaction.
        REEXECUTION,
        /// Integer-only model of any size: interactive bisection over the execution trace.
        BISECTION,
        /// Float model: k-of-n operators commit and reveal; escalation to a committee.
        QUORUM
    }

    /// @notice What a publisher supplies to register a model.
    /// @param onnxHash keccak256 of the ONNX file bytes.
    /// @param manifestHash keccak256 of the manifest (I/O spec) bytes.
    /// @param programHash keccak256 of the on-chain program; required for REEXECUTION and BISECTION.
    /// @param uri Where operators fetch the ONNX file (file, http(s), ipfs...). Integrity comes from onnxHash.
    /// @param mode The verification mode.
    /// @param feeWei Fee per request, in stake-token base units, paid to the operator that serves it.
    /// @param collateralWei Operator collateral locked per in-flight result, slashed if the result is wrong.
    /// @param challengeWindowSeconds How long a submitted result can be challenged.
    struct ModelSpec {
        bytes32 onnxHash;
        bytes32 manifestHash;
        bytes32 programHash;
        string uri;
        VerificationMode mode;
        uint96 feeWei;
        uint96 collateralWei;
        uint32 challengeWindowSeconds;
    }

    /// @notice The terms a request snapshots. Packed into one storage slot.
    struct ModelTerms {
        uint96 feeWei;
        uint96 collateralWei;
        uint32 challengeWindowSeconds;
        VerificationMode mode;
        bool active;
    }

    /// @notice A registered model.
    struct Model {
        address owner;
        bytes32 onnxHash;
        bytes32 manifestHash;
        bytes32 programHash;
        ModelTerms terms;
        string uri;
    }

    /// @notice Emitted when a model is registered.
    event ModelRegistered(
        bytes32 indexed modelId,
        address indexed owner,
        bytes32 onnxHash,
        bytes32 manifestHash,
        bytes32 programHash,
        VerificationMode mode,
        uint96 feeWei,
        uint96 collateralWei,
        uint32 challengeWindowSeconds,
        string uri
    );
    /// @notice Emitted with ModelRegistered: the resolver of the model's mode accepted it, and stated an upper
    /// bound on the gas of a dispute over one of its results (0 when the mode states none).
    event ModelDisputeChecked(bytes32 indexed modelId, address indexed resolver, uint256 disputeGas);
    /// @notice Emitted once, when the deployer binds the registry to its coordinator.
    event CoordinatorBound(address coordinator);
    /// @notice Emitted when a model's owner changes the fee (in-flight requests keep the fee they paid).
    event ModelFeeUpdated(bytes32 indexed modelId, uint96 oldFeeWei, uint96 newFeeWei);
    /// @notice Emitted when a model is deactivated. Deactivation is permanent.
    event ModelDeactivated(bytes32 indexed modelId);

    /// @notice The model id is already taken (same owner and salt).
    error ModelRegistryAlreadyRegistered(bytes32 modelId);
    /// @notice No model has this id.
    error ModelRegistryUnknownModel(bytes32 modelId);
    /// @notice The model is deactivated.
    error ModelRegistryInactive(bytes32 modelId);
    /// @notice Only the model's owner may do this.
    error ModelRegistryNotOwner(address have, address want);
    /// @notice The ONNX hash or manifest hash is zero.
    error ModelRegistryMissingHash();
    /// @notice REEXECUTION and BISECTION models need the hash of their on-chain program.
    error ModelRegistryMissingProgramHash(VerificationMode mode);
    /// @notice The URI is empty or longer than the maximum.
    error ModelRegistryInvalidUri(uint256 have, uint256 max);
    /// @notice The program of a REEXECUTION or BISECTION model is not in the ProgramStore (store it first).
    error ModelRegistryProgramNotStored(bytes32 programHash);
    /// @notice The registry needs a ProgramStore.
    error ModelRegistryZeroProgramStore();
    /// @notice The challenge window is outside the registry's bounds.
    error ModelRegistryInvalidChallengeWindow(uint32 have, uint32 min, uint32 max);
    /// @notice The collateral per result is below the registry's minimum.
    error ModelRegistryCollateralTooLow(uint96 have, uint96 min);
    /// @notice Only the account that deployed the registry may bind it, once.
    error ModelRegistryNotDeployer(address have, address want);
    /// @notice The registry is already bound to a coordinator.
    error ModelRegistryAlreadyBound(address coordinator);
    /// @notice The registry is not bound to a coordinator yet: no model can be registered.
    error ModelRegistryNotBound();
    /// @notice The coordinator named for binding reads another registry.
    error ModelRegistryForeignCoordinator(address coordinator, address itsRegistry);
    /// @notice The coordinator has no resolver for this mode: a result of the model could not be disputed.
    error ModelRegistryNoResolver(VerificationMode mode);

    /// @notice Registers a model. Permissionless; the id is derived from the caller and a salt. The resolver of
    /// the model's mode (the bound coordinator's) must accept it (`IDisputeResolver.checkModel`, which reverts
    /// naming why not): no model is registered whose results could not be disputed.
    /// @param salt Any value chosen by the publisher (e.g. keccak256("iris-v1")).
    /// @param spec The model's hashes, URI, mode and terms.
    /// @return modelId keccak256(abi.encode(msg.sender, salt)).
    function registerModel(bytes32 salt, ModelSpec calldata spec) external returns (bytes32 modelId);

    /// @notice Binds the registry to the coordinator whose resolvers check each registration. Only the deployer,
    /// once (the coordinator is deployed after the registry, which it takes in its constructor).
    /// @param coordinator The coordinator.
    function bindCoordinator(address coordinator) external;

    /// @notice The coordinator the registry is bound to (address(0) until bound).
    /// @return The coordinator's address.
    function coordinator() external view returns (address);

    /// @notice Changes the fee of future requests for a model. Only the model's owner.
    /// @param modelId The model.
    /// @param feeWei The new fee per request.
    function setModelFee(bytes32 modelId, uint96 feeWei) external;

    /// @notice Permanently deactivates a model: no new requests. In-flight requests complete. Only the owner.
    /// @param modelId The model.
    function deactivateModel(bytes32 modelId) external;

    /// @notice The id a registration by `owner` with `salt` gets.
    /// @param owner The publisher.
    /// @param salt The publisher's salt.
    /// @return The model id.
    function computeModelId(address owner, bytes32 salt) external pure returns (bytes32);

    /// @notice A registered model. Reverts for unknown ids.
    /// @param modelId The model.
    /// @return The model.
    function getModel(bytes32 modelId) external view returns (Model memory);

    /// @notice The terms requests snapshot (one storage read). Reverts for unknown ids.
    /// @param modelId The model.
    /// @return The terms.
    function getModelTerms(bytes32 modelId) external view returns (ModelTerms memory);

    /// @notice The shortest challenge window a model may have.
    /// @return Seconds.
    function minChallengeWindowSeconds() external view returns (uint32);

    /// @notice The longest challenge window a model may have (bounds the staking unbonding delay).
    /// @return Seconds.
    function maxChallengeWindowSeconds() external view returns (uint32);

    /// @notice Where the programs of REEXECUTION and BISECTION models are stored.
    /// @return The ProgramStore's address.
    function programStore() external view returns (address);

    /// @notice The smallest collateral per result a model may require.
    /// @return Stake-token base units.
    function minCollateralWei() external view returns (uint96);
}
