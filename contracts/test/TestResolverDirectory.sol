// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @notice Test-only stand-in for the coordinator's resolver table, for specs of the registry alone.
contract TestResolverDirectory {
    mapping(IModelRegistry.VerificationMode mode => address) private s_resolvers;

    /// @notice The registry this stand-in claims to be built on (what the registry checks when binding).
    address public registry;

    /// @notice Sets the registry this stand-in claims.
    function setRegistry(address registry_) external {
        registry = registry_;
    }

    /// @notice Sets the resolver a mode's registrations are checked by.
    function setResolver(IModelRegistry.VerificationMode mode, address resolver) external {
        s_resolvers[mode] = resolver;
    }

    /// @notice The last model terms the registry wrote, per model (what the coordinator keeps a copy of).
    mapping(bytes32 modelId => IModelRegistry.ModelTerms) public syncedTerms;

    /// @notice Records the registry's write of a model's terms, as the coordinator's copy does.
    function syncModelTerms(bytes32 modelId, IModelRegistry.ModelTerms calldata terms) external {
        syncedTerms[modelId] = terms;
    }

    /// @notice The resolver of `mode` (address(0) when unset), as the coordinator answers.
    function getResolver(IModelRegistry.VerificationMode mode) external view returns (address) {
        return s_resolvers[mode];
    }
}
